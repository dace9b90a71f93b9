// Client-side paths that do not need the real server (no model), against test/fake-server.js: the
// "explain" code action flow, the pull-model command (QuickPick, progress, errors), the status bar's
// fallback and pulling states; and a server command that does not exist.
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

const FAKE = () => ({
    'codecomp.serverCommand': process.execPath,
    'codecomp.serverArgs': [path.join(__dirname, 'fake-server.js')],
});

function statusItem() {
    return stub.statusBarItems.filter((i) => i.id === 'codecomp.status').at(-1);
}

async function waitFor(what, predicate, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const value = await predicate();
        if (value) {
            return value;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out waiting for ${what}`);
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

    it('codecomp.pullModel: a QuickPick of codecomp/models, then codecomp/pullModel with its $/progress', async () => {
        const seenMessages = stub.messages.length;
        const { api, client } = await activate(FAKE());
        // The server advertises codecomp.pullModel too; the start must not fail on "command already exists".
        assert.ok(client && client.isRunning(), 'the fake server did not start');
        assert.ok(client.initializeResult.capabilities.executeCommandProvider.commands.includes('codecomp.pullModel'));
        assert.ok(stub.commands.has('codecomp.explain'), 'the server command codecomp.explain is not registered');
        await api.stats();
        let offered;
        stub.quickPickAnswers.push((items) => {
            offered = items;
            return items.find((i) => i.model.name === 'fake-small');
        });
        const progressBefore = stub.progress.length;
        const result = await vscode.commands.executeCommand('codecomp.pullModel');
        assert.deepEqual(result, { name: 'fake-small', path: '/fake/models/fake-small', switching: true });

        // The catalog: recommended first, then catalog order; size, state, in use.
        assert.deepEqual(offered.map((i) => i.model.name), ['fake-small', 'fake-big', 'fake-tiny']);
        assert.match(offered[0].label, /fake-small/);
        assert.equal(offered[0].description, '1.5 MB · not downloaded · recommended');
        assert.equal(offered[0].detail, 'the fake model to pull first');
        assert.equal(offered[1].description, '1.1 GB · partly downloaded');
        assert.equal(offered[2].description, '13.0 MB · built in · in use');
        assert.match(offered[2].label, /\$\(check\)/);
        const pick = stub.messages.slice(seenMessages).find((m) => m.level === 'quickPick');
        assert.equal(pick.options.title, 'codecomp: Pull Model');
        assert.match(pick.options.placeHolder, /\/fake\/models/);

        // A notification whose percentage follows the server's $/progress reports.
        const records = stub.progress.slice(progressBefore);
        const note = records.find((r) => r.location === vscode.ProgressLocation.Notification);
        assert.ok(note, `no notification progress: ${JSON.stringify(records)}`);
        assert.equal(note.title, 'codecomp: pulling fake-small');
        assert.ok(note.done);
        const messages = note.reports.map((r) => r.message).filter(Boolean);
        assert.ok(messages.includes('downloading fake-small: 0.6 MB / 1.5 MB'), JSON.stringify(note.reports));
        const total = note.reports.reduce((sum, r) => sum + (r.increment ?? 0), 0);
        assert.equal(total, 100, JSON.stringify(note.reports));
        // The status bar showed the download beside the model in use, then the model again.
        const item = statusItem();
        assert.ok(item.history.some((t) => t.startsWith('$(cloud-download) codecomp: downloading fake-small')), JSON.stringify(item.history));
        await waitFor('the status bar to show the model again', () => /codecomp: fake/.test(item.text) && !/download/.test(item.text));

        const shown = stub.messages.slice(seenMessages).filter((m) => m.level === 'info');
        assert.ok(shown.some((m) => m.message === 'codecomp: fake-small is installed.'), JSON.stringify(shown));
        const seen = (await api.stats()).seen.map((m) => m.method);
        assert.ok(seen.includes('codecomp/models') && seen.includes('codecomp/pullModel'), JSON.stringify(seen));
        assert.ok(!seen.includes('workspace/executeCommand'), 'the pull went through the server command instead');
        assert.deepEqual((await api.stats()).seen.find((m) => m.method === 'codecomp/pullModel').params, { name: 'fake-small' });
    });

    it('codecomp.pullModel NAME pulls without asking; errors and a dismissed QuickPick are handled', async () => {
        const { api } = await activate(FAKE());
        await api.stats();
        const seenMessages = stub.messages.length;
        // A name as argument (like the server's command): no QuickPick; another model is configured.
        const big = await vscode.commands.executeCommand('codecomp.pullModel', 'fake-big');
        assert.equal(big.name, 'fake-big');
        assert.equal(big.switching, false);
        let shown = stub.messages.slice(seenMessages);
        assert.ok(!shown.some((m) => m.level === 'quickPick'), 'asked although a name was given');
        const info = shown.find((m) => m.level === 'info');
        assert.match(info.message, /fake-big is installed; the configured model \(codecomp\.model\) still answers/);
        assert.deepEqual(info.items, ['Use fake-big']);

        // The server's error, as the server words it.
        const bad = await vscode.commands.executeCommand('codecomp.pullModel', 'no-such-model');
        assert.equal(bad, undefined);
        shown = stub.messages.slice(seenMessages).filter((m) => m.level === 'error');
        assert.equal(shown.length, 1, JSON.stringify(shown));
        assert.match(shown[0].message, /^codecomp: pulling no-such-model failed: no model 'no-such-model' in the catalog \(known: fake-big/);

        // Escape in the QuickPick: nothing is pulled.
        const before = (await api.stats()).seen.filter((m) => m.method === 'codecomp/pullModel').length;
        assert.equal(await vscode.commands.executeCommand('codecomp.pullModel'), undefined);
        const after = (await api.stats()).seen.filter((m) => m.method === 'codecomp/pullModel').length;
        assert.equal(after, before, 'a dismissed QuickPick pulled');
    });

    it('the status bar marks the fallback model and shows why, and the pulling state', async () => {
        const { api, client } = await activate(FAKE());
        const item = statusItem();
        await client.sendNotification('fake/setStats', {
            model: 'codecomp-tiny',
            modelReason: 'no catalog model is pulled; `codecomp models pull fake-small` gets a real one',
            modelFallback: true,
            modelError: null,
        });
        await api.stats();
        assert.equal(item.text, '$(warning) codecomp: codecomp-tiny (fallback) · none');
        assert.equal(item.backgroundColor?.id, 'statusBarItem.warningBackground');
        const tooltip = item.tooltip.value;
        assert.match(tooltip, /Why this model: no catalog model is pulled; `codecomp models pull fake-small` gets a real one/);
        assert.match(tooltip, /fallback model answers/);
        assert.match(tooltip, /\(command:codecomp\.pullModel\)/);
        assert.deepEqual(item.tooltip.isTrusted, { enabledCommands: ['codecomp.pullModel'] });

        // The chosen model failed: the fallback answers, with the error in the tooltip.
        await client.sendNotification('fake/setStats', { modelReason: 'fake-small could not be used', modelError: 'fake-small: disk full' });
        await api.stats();
        assert.match(item.text, /codecomp-tiny \(fallback\)/);
        assert.match(item.tooltip.value, /Why this model: fake-small could not be used/);
        assert.match(item.tooltip.value, /Model error: fake-small: disk full/);

        // The configured model is pulled before it loads.
        await client.sendNotification('fake/setStats', { modelState: 'pulling', model: null, modelFallback: false, modelReason: 'configured' });
        await api.stats();
        assert.equal(item.text, '$(cloud-download) codecomp: pulling model');
        assert.match(item.tooltip.value, /Pulling the model/);

        // A real model answers: no fallback mark.
        await client.sendNotification('fake/setStats', { modelState: 'ready', model: 'fake-small', modelError: null, modelReason: 'the best pulled model for cpu' });
        await api.stats();
        assert.equal(item.text, '$(sparkle) codecomp: fake-small · none');
        assert.equal(item.backgroundColor, undefined);
        assert.doesNotMatch(item.tooltip.value, /fallback/);
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
        assert.equal(await vscode.commands.executeCommand('codecomp.pullModel'), undefined);
        assert.match(stub.messages.at(-1).message, /server is not running/);
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
