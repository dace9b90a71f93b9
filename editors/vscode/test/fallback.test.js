// The real server with a model that cannot load (a directory that does not exist): it falls back to
// the built-in codecomp-tiny, and the status bar, its tooltip and the server's messages say so. Runs
// where the smoke test runs (CODECOMP_TEST_MODEL set: the real server is installed) but needs no model
// of its own: codecomp-tiny ships with the server.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const stub = require('./vscode-stub');

const SKIP = process.env.CODECOMP_TEST_MODEL
    ? false
    : 'CODECOMP_TEST_MODEL is not set (the real codecomp-lsp is not set up): skipping the fallback test';
if (SKIP) {
    console.log(`# ${SKIP}`);
}

const vscode = stub.install();

async function waitFor(what, predicate, timeoutMs = 60000, intervalMs = 100) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const value = await predicate();
        if (value) {
            return value;
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('the built-in fallback model, with the real server', { skip: SKIP, timeout: 180000 }, () => {
    let extension;
    let api;
    let tmp;
    let missingModel;

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codecomp-fallback-'));
        missingModel = path.join(tmp, 'no-such-model');
        stub.userValues['codecomp.model'] = missingModel;
        stub.userValues['codecomp.device'] = 'cpu';
        if (process.env.CODECOMP_TEST_PYTHON) {
            stub.userValues['codecomp.pythonPath'] = process.env.CODECOMP_TEST_PYTHON;
        }
        extension = require('../dist/extension.js');
        api = extension.activate(stub.extensionContext(tmp));
        const client = await api.ready();
        assert.ok(client, `the server did not start:\n${api.log.text ?? ''}`);
        await waitFor('the fallback model to load', async () => (await api.stats())?.modelState === 'ready', 90000, 200);
    });

    after(async () => {
        if (process.env.CODECOMP_STUB_DEBUG || process.exitCode) {
            console.log(stub.outputChannels.get('codecomp')?.text);
            console.log('status bar:', JSON.stringify(stub.statusBarItems.map((i) => i.history)));
            console.log('messages:', JSON.stringify(stub.messages.map((m) => `${m.level}: ${m.message}`)));
        }
        if (extension) {
            await extension.deactivate();
        }
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('codecomp/stats names codecomp-tiny as a fallback, with the reason and the error', async () => {
        const stats = await api.stats();
        assert.equal(stats.model, 'codecomp-tiny');
        assert.equal(stats.modelFallback, true);
        assert.equal(stats.modelReason, `${missingModel} could not be used`);
        assert.match(stats.modelError, /no-such-model/);
    });

    it('the status bar marks the fallback, and the tooltip says why and links the pull command', async () => {
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        await waitFor('the status bar to show the fallback', () => /codecomp-tiny \(fallback\)/.test(item.text), 10000);
        assert.match(item.text, /^\$\(warning\) codecomp: codecomp-tiny \(fallback\) · cpu/);
        assert.equal(item.backgroundColor?.id, 'statusBarItem.warningBackground');
        const tooltip = item.tooltip.value;
        assert.ok(tooltip.includes(`Why this model: ${missingModel} could not be used`), tooltip);
        assert.match(tooltip, /fallback model answers/);
        assert.match(tooltip, /\(command:codecomp\.pullModel\)/);
        assert.match(tooltip, /Model error: .*no-such-model/);
    });

    it('the server says which model answers and why (window/showMessage)', async () => {
        const texts = () => stub.messages.map((m) => `${m.level}: ${m.message}`);
        await waitFor('the fallback message', () => texts().some((t) => /^info: codecomp: the small built-in model codecomp-tiny is answering/.test(t)), 10000);
        assert.ok(texts().some((t) => /^error: codecomp: .*no-such-model/.test(t)), JSON.stringify(texts()));
    });

    it('codecomp.pullModel codecomp-tiny succeeds (built in: nothing to download)', async () => {
        const result = await vscode.commands.executeCommand('codecomp.pullModel', 'codecomp-tiny');
        assert.equal(result?.name, 'codecomp-tiny', JSON.stringify(stub.messages.slice(-3)));
        assert.equal(result.switching, false, 'a model is configured');
        assert.equal((await api.stats()).modelFallback, true);
    });
});
