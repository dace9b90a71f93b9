// Client-side paths that do not need the real server (no model): the "explain" code action flow
// against test/fake-server.js, and a server command that does not exist.
'use strict';

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const stub = require('./vscode-stub');

const vscode = stub.install();
const extension = require('../dist/extension.js');

let context;

async function activate(settings) {
    for (const key of Object.keys(stub.userValues)) {
        delete stub.userValues[key];
    }
    Object.assign(stub.userValues, settings);
    context = stub.extensionContext(fs.mkdtempSync(path.join(os.tmpdir(), 'codecomp-client-')));
    const api = extension.activate(context);
    return { api, client: await api.ready() };
}

afterEach(async () => {
    await extension.deactivate();
    // What VS Code does after deactivate: dispose what the extension registered.
    for (const d of context.subscriptions.splice(0)) {
        d.dispose();
    }
});

describe('codecomp client without the real server', { timeout: 60000 }, () => {
    it('explains a selection through an "explain" code action (resolve + executeCommand)', async () => {
        const { api, client } = await activate({
            'codecomp.serverCommand': process.execPath,
            'codecomp.serverArgs': [path.join(__dirname, 'fake-server.js')],
        });
        assert.ok(client && client.isRunning(), 'the fake server did not start');
        const file = path.join(os.tmpdir(), 'codecomp-explain.py');
        const text = 'def f(root):\n    return len(os.listdir(root))\n';
        const document = stub.openDocument(file, 'python', text);
        stub.setActiveEditor(document, new vscode.Selection(0, 0, 1, 10));
        const outcome = await vscode.commands.executeCommand('codecomp.explainSelection');
        assert.equal(outcome, 'codeAction');
        const channel = stub.outputChannels.get('codecomp explain');
        assert.match(channel.text, /It counts files \(lines 1-2\)\./);
        assert.ok(channel.shown);
        const seen = (await api.stats()).seen.map((m) => m.method);
        assert.deepEqual(
            seen.filter((m) => !m.startsWith('textDocument/did') && m !== 'initialized' && m !== 'workspace/didChangeConfiguration'),
            ['textDocument/codeAction', 'codeAction/resolve', 'workspace/executeCommand'],
        );
        stub.closeDocument(document);
    });

    it('says so when the server command does not exist', async () => {
        const seen = stub.messages.length;
        const { api, client } = await activate({ 'codecomp.serverCommand': '/nonexistent/codecomp-lsp' });
        assert.equal(client, undefined);
        const shown = stub.messages.slice(seen);
        assert.equal(shown.length, 1, JSON.stringify(shown));
        assert.match(shown[0].message, /was not found/);
        assert.match(api.status.item.text, /stopped/);
        assert.equal(await vscode.commands.executeCommand('codecomp.explainSelection'), 'notRunning');
    });

    it('says why when the server exits during startup', async () => {
        const seen = stub.messages.length;
        const script = 'process.stderr.write("No module named codecomp_lsp\\n"); process.exit(1)';
        const { client } = await activate({ 'codecomp.serverCommand': process.execPath, 'codecomp.serverArgs': ['-e', script] });
        assert.equal(client, undefined);
        const errors = stub.messages.slice(seen).filter((m) => m.level === 'error');
        assert.ok(errors.length <= 2, `too many popups: ${JSON.stringify(errors)}`);
        assert.ok(errors.some((m) => /No module named codecomp_lsp/.test(m.message)), JSON.stringify(errors));
    });
});
