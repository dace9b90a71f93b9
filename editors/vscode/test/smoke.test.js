// Smoke test: the bundled extension (dist/extension.js) with the real vscode-languageclient, talking to
// the REAL codecomp-lsp over stdio, inside a stubbed `vscode` module. Needs CODECOMP_TEST_MODEL (a model
// directory) and `codecomp-lsp` on PATH (or CODECOMP_TEST_PYTHON: a Python with codecomp_lsp installed).
// Completion text from the test model is junk: only the shape of the answers is checked.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const stub = require('./vscode-stub');

const MODEL = process.env.CODECOMP_TEST_MODEL;
const SKIP = MODEL ? false : 'CODECOMP_TEST_MODEL is not set (a model directory for codecomp-lsp): skipping the smoke test';
if (SKIP) {
    console.log(`# ${SKIP}`);
}

const vscode = stub.install();
const { Position, Range, Selection, InlineCompletionTriggerKind, CompletionTriggerKind, CancellationTokenSource } = vscode;

const SAMPLE = [
    'import os',
    '',
    '',
    'def count_files(root):',
    '    """Count the files under root."""',
    '    total = 0',
    '    for name in os.listdir(root):',
    '        path = os.path.join(root, name)',
    '        ',
    '',
    '',
    'def main():',
    '    print(count_files("."))',
    '',
].join('\n');

async function waitFor(what, predicate, timeoutMs = 60000, intervalMs = 100) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
        last = await predicate();
        if (last) {
            return last;
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function provider(kind) {
    const entries = stub.providers.filter((p) => p.kind === kind);
    assert.ok(entries.length > 0, `the client registered no ${kind}`);
    return entries[entries.length - 1].provider;
}

function items(result) {
    if (result === null || result === undefined) {
        return undefined;
    }
    return Array.isArray(result) ? result : result.items;
}

describe('codecomp VS Code extension against the real server', { skip: SKIP, timeout: 240000 }, () => {
    let extension;
    let api;
    let document;
    let tmp;

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'codecomp-vscode-'));
        // User settings: the model, small budgets, and a client-only setting the server must never see.
        stub.userValues['codecomp.model'] = MODEL;
        stub.userValues['codecomp.maxNewTokens'] = 16;
        stub.userValues['codecomp.device'] = 'cpu';
        stub.userValues['codecomp.trace.server'] = 'messages';
        if (process.env.CODECOMP_TEST_PYTHON) {
            stub.userValues['codecomp.pythonPath'] = process.env.CODECOMP_TEST_PYTHON;
        }
        extension = require('../dist/extension.js');
        api = extension.activate(stub.extensionContext(tmp));
        const client = await api.ready();
        assert.ok(client, `the server did not start:\n${api.log.text ?? ''}`);
        const file = path.join(tmp, 'sample.py');
        fs.writeFileSync(file, SAMPLE);
        document = stub.openDocument(file, 'python', SAMPLE);
        stub.setActiveEditor(document, new Selection(8, 8, 8, 8));
        await waitFor('the model to load', async () => (await api.stats())?.modelState === 'ready', 90000, 200);
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
        if (stub.missing.size) {
            console.log(`# vscode APIs read but not stubbed (harmless unless a test failed): ${[...stub.missing].sort().join(', ')}`);
        }
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('sends the settings as initializationOptions / configuration, without client-only keys', async () => {
        const stats = await api.stats();
        assert.equal(stats.settings.model, MODEL);
        assert.equal(stats.settings.maxNewTokens, 16);
        assert.equal(stats.modelState, 'ready');
        const complaints = stub.messages.filter((m) => /unknown setting|codecomp\.\w+:/.test(m.message));
        assert.deepEqual(complaints, [], 'the server complained about the settings it got');
    });

    it('shows model, device and loading progress in the status bar', async () => {
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        assert.ok(item && item.visible, 'no visible codecomp status bar item');
        await waitFor('the status bar to show the model', () => item.text.includes(path.basename(MODEL)), 10000);
        assert.match(item.text, /cpu/);
        assert.ok(item.history.some((t) => /starting|loading/.test(t)), `no starting/loading state in ${JSON.stringify(item.history)}`);
        assert.equal(item.command, 'codecomp.toggle');
    });

    it('the status bar says why this model answers, and that it is no fallback', async () => {
        const stats = await api.stats();
        assert.equal(stats.modelFallback, false);
        assert.equal(stats.modelReason, 'configured');
        assert.equal(stats.modelError, null);
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        assert.match(item.text, /^\$\(sparkle\) codecomp: /);
        assert.doesNotMatch(item.text, /fallback/);
        assert.equal(item.backgroundColor, undefined);
        assert.match(item.tooltip.value, /Why this model: configured/);
        assert.doesNotMatch(item.tooltip.value, /fallback/);
    });

    it('codecomp.pullModel lists the catalog and pulls the built-in codecomp-tiny end to end', async () => {
        const catalog = await api.models();
        assert.ok(catalog.recommended, JSON.stringify(catalog));
        const names = catalog.models.map((m) => m.name);
        assert.ok(names.includes('codecomp-tiny') && names.includes(catalog.recommended), JSON.stringify(names));
        const tiny = catalog.models.find((m) => m.name === 'codecomp-tiny');
        assert.equal(tiny.state, 'built-in');
        assert.equal(tiny.installed, true);
        assert.equal(tiny.inUse, false, 'the configured test model answers, not codecomp-tiny');
        const seen = stub.messages.length;
        const progressBefore = stub.progress.length;
        let offered;
        // Only ever codecomp-tiny: it is built in, so the "pull" downloads nothing.
        stub.quickPickAnswers.push((items) => {
            offered = items;
            return items.find((i) => i.model.name === 'codecomp-tiny');
        });
        const result = await vscode.commands.executeCommand('codecomp.pullModel');
        assert.ok(result, `no pull result: ${JSON.stringify(stub.messages.slice(seen))}`);
        assert.equal(result.name, 'codecomp-tiny');
        assert.equal(result.path, tiny.path);
        assert.equal(result.switching, false, 'the test model is configured: nothing to switch to');
        assert.equal(offered[0].model.name, catalog.recommended, 'the recommended model is offered first');
        assert.match(offered[0].description, /recommended/);
        assert.match(offered.find((i) => i.model.name === 'codecomp-tiny').description, /built in/);
        // Our notification, and the LanguageClient's window progress for the server's own $/progress.
        const records = stub.progress.slice(progressBefore);
        const note = records.find((r) => r.location === vscode.ProgressLocation.Notification);
        assert.ok(note && note.done && note.title === 'codecomp: pulling codecomp-tiny', JSON.stringify(records));
        await waitFor('the server\'s pull progress', () => stub.progress.slice(progressBefore).some((r) => r.location === vscode.ProgressLocation.Window && r.title === 'codecomp: pulling codecomp-tiny' && r.done), 5000);
        const shown = stub.messages.slice(seen).filter((m) => m.level !== 'quickPick');
        assert.equal(shown.length, 1, JSON.stringify(shown));
        assert.match(shown[0].message, /^codecomp: codecomp-tiny is installed; the configured model/);
        // Still the configured model, still no fallback.
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        await waitFor('the status bar to show the model', () => item.text.includes(path.basename(MODEL)), 10000);
        const stats = await api.stats();
        assert.equal(stats.modelFallback, false);
        assert.equal(stats.modelState, 'ready');
    });

    it('codecomp.pullModel with an unknown name shows the server\'s error', async () => {
        const seen = stub.messages.length;
        const result = await vscode.commands.executeCommand('codecomp.pullModel', 'no-such-model');
        assert.equal(result, undefined);
        const shown = stub.messages.slice(seen);
        assert.equal(shown.length, 1, JSON.stringify(shown));
        assert.equal(shown[0].level, 'error');
        assert.match(shown[0].message, /^codecomp: pulling no-such-model failed: no model 'no-such-model' in the catalog/);
        assert.equal((await api.stats()).modelState, 'ready');
    });

    it('answers an inline completion and streams it (experimental.codecompCompletionStream)', async () => {
        const streamed = [];
        const listener = api.onDidStream((p) => streamed.push(p));
        const before = await api.stats();
        const source = new CancellationTokenSource();
        const result = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 8),
            { triggerKind: InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
            source.token,
        );
        const list = items(result);
        assert.ok(Array.isArray(list), `no inline completion list: ${JSON.stringify(result)}`);
        for (const item of list) {
            assert.equal(typeof (item.insertText.value ?? item.insertText), 'string');
            assert.ok(item.range instanceof Range, 'the item range is not a vscode.Range');
        }
        const after = await api.stats();
        assert.equal(after.requests, before.requests + 1);
        assert.ok(after.latencyMs.inline.count >= 1);
        await waitFor('the final stream notification', () => streamed.some((p) => p.done), 5000);
        const done = streamed.find((p) => p.done);
        assert.equal(done.uri, document.uri.toString());
        assert.deepEqual(done.position, { line: 8, character: 8 });
        listener.dispose();
    });

    it('reports the inline item shown and, through its command, accepted (codecomp/didShow, didAccept)', async () => {
        const before = (await api.stats()).acceptance;
        const result = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 8),
            { triggerKind: InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
            new CancellationTokenSource().token,
        );
        const list = items(result);
        assert.ok(list && list.length > 0, `no inline item: ${JSON.stringify(result)}`);
        const command = list[0].command;
        assert.equal(command?.command, 'codecomp.didAcceptInline');
        await waitFor('didShow to be counted', async () => (await api.stats()).acceptance.shown > before.shown, 5000);
        // What VS Code does when the user accepts the item.
        await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
        const after = await waitFor(
            'didAccept to be counted',
            async () => {
                const acceptance = (await api.stats()).acceptance;
                return acceptance.accepted > before.accepted && acceptance;
            },
            5000,
        );
        assert.equal(after.acceptedByKind.full, before.acceptedByKind.full + 1);
        assert.ok(after.acceptedChars > before.acceptedChars);
    });

    it('keeps the server in sync while typing (incremental didChange)', async () => {
        stub.editDocument(document, new Range(8, 8, 8, 8), 'if ');
        const result = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 11),
            { triggerKind: InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined },
            new CancellationTokenSource().token,
        );
        assert.ok(Array.isArray(items(result)), 'no inline answer after an edit');
        const stats = await api.stats();
        assert.equal(stats.errors, 0);
    });

    it('reports where the cursor rests (codecomp/cursor) and the server prefills there', async () => {
        const before = await api.stats();
        stub.setActiveEditor(document, new Selection(4, 4, 4, 4));
        await waitFor(
            'a background prefill at the cursor',
            async () => (await api.stats()).backgroundPrefills > before.backgroundPrefills,
            30000,
            200,
        );
    });

    it('answers a menu completion', async () => {
        const before = await api.stats();
        const result = await provider('CompletionItemProvider').provideCompletionItems(
            document,
            new Position(8, 11),
            new CancellationTokenSource().token,
            { triggerKind: CompletionTriggerKind.Invoke, triggerCharacter: undefined },
        );
        const list = items(result);
        assert.ok(Array.isArray(list), `no completion list: ${JSON.stringify(result)}`);
        for (const item of list) {
            assert.ok(item instanceof vscode.CompletionItem);
            assert.equal(item.detail, 'codecomp');
        }
        const after = await api.stats();
        assert.equal(after.requests, before.requests + 1);
        assert.ok(after.latencyMs.completion.count >= 1);
    });

    it('codecomp.showStats writes the stats JSON to an output channel', async () => {
        await vscode.commands.executeCommand('codecomp.showStats');
        const channel = stub.outputChannels.get('codecomp stats');
        const stats = JSON.parse(channel.text);
        assert.ok(stats.requests >= 3, `requests: ${stats.requests}`);
        assert.ok(channel.shown);
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        assert.match(item.text, /\d+ ms/, 'no latency in the status bar');
    });

    it('codecomp.toggle turns completions off and on', async () => {
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        const before = await api.stats();
        await vscode.commands.executeCommand('codecomp.toggle');
        assert.equal(stub.userValues['codecomp.enable'], false);
        assert.match(item.text, /off/);
        const inline = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 11),
            { triggerKind: InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
            new CancellationTokenSource().token,
        );
        assert.equal(items(inline), undefined, 'an inline answer while off');
        assert.equal((await api.stats()).requests, before.requests, 'a request reached the server while off');
        await vscode.commands.executeCommand('codecomp.toggle');
        assert.equal(stub.userValues['codecomp.enable'], true);
        assert.doesNotMatch(item.text, /off/);
    });

    it('sends changed settings to the running server (workspace/didChangeConfiguration)', async () => {
        await stub.setConfiguration('codecomp.maxNewTokens', 12);
        await waitFor('the server to take maxNewTokens=12', async () => (await api.stats())?.settings.maxNewTokens === 12, 10000);
        const complaints = stub.messages.filter((m) => /unknown setting|codecomp\.\w+:/.test(m.message));
        assert.deepEqual(complaints, []);
        // An invalid value: the server reports it and keeps the default.
        await stub.setConfiguration('codecomp.multiline', 'sometimes');
        await waitFor('the server to report the bad value', () => stub.messages.some((m) => /codecomp\.multiline/.test(m.message)), 10000);
        await stub.setConfiguration('codecomp.multiline', undefined);
    });

    it('accept word / accept line run the inline-suggest commands', async () => {
        await vscode.commands.executeCommand('codecomp.acceptWord');
        await vscode.commands.executeCommand('codecomp.acceptLine');
        const ids = stub.executedCommands.map((c) => c.id);
        assert.ok(ids.includes('editor.action.inlineSuggest.acceptNextWord'));
        assert.ok(ids.includes('editor.action.inlineSuggest.acceptNextLine'));
    });

    it('codecomp.explainSelection explains, or says the server cannot', async () => {
        stub.setActiveEditor(document, new Selection(3, 0, 8, 11));
        const seen = stub.messages.length;
        const outcome = await vscode.commands.executeCommand('codecomp.explainSelection');
        assert.ok(['command', 'codeAction', 'unsupported'].includes(outcome), `outcome ${outcome}: ${JSON.stringify(stub.messages.slice(seen))}`);
        if (outcome === 'codeAction' || outcome === 'command') {
            // The server's explanation (junk from the test model, maybe empty) goes to an output channel.
            assert.ok(stub.outputChannels.get('codecomp explain'), 'no explain output channel');
        }
        if (outcome === 'unsupported') {
            const shown = stub.messages.slice(seen);
            assert.ok(shown.some((m) => /cannot explain|no explanation/.test(m.message)), JSON.stringify(shown));
        }
    });

    it('lists the refactorings, tests and translations for a selection, and Extract function edits the file', async () => {
        // What the lightbulb does: the client's code action provider for the selected lines, then
        // the chosen action resolved (its edit computed lazily), applied, and its command run.
        const text = [
            'def summarize(values):',
            '    total = 0',
            '    count = 0',
            '    for value in values:',
            '        total += value',
            '        count += 1',
            '    mean = total / count',
            '    return mean',
            '',
        ].join('\n');
        const file = path.join(tmp, 'stats_refactor.py');
        fs.writeFileSync(file, text);
        const doc = stub.openDocument(file, 'python', text);
        const range = new Range(1, 0, 5, 18);
        stub.setActiveEditor(doc, new Selection(1, 0, 5, 18));
        const codeActions = provider('CodeActionsProvider');
        const token = new CancellationTokenSource().token;
        const listed = await codeActions.provideCodeActions(
            doc,
            range,
            { diagnostics: [], only: vscode.CodeActionKind.Refactor, triggerKind: vscode.CodeActionTriggerKind.Invoke },
            token,
        );
        const titles = (listed ?? []).map((a) => a.title);
        for (const title of ['Simplify', 'Extract function', 'Rename locals for clarity']) {
            assert.ok(titles.includes(title), `${title} not offered: ${JSON.stringify(titles)}`);
        }
        assert.ok(titles.some((t) => /^Generate tests/.test(t)), `no Generate tests: ${JSON.stringify(titles)}`);
        assert.ok(titles.some((t) => /^Translate to JavaScript/.test(t)), `no Translate: ${JSON.stringify(titles)}`);
        for (const action of listed) {
            assert.ok(action instanceof vscode.CodeAction, 'the client did not convert the action');
            assert.ok(action.kind.value.startsWith('refactor'), action.kind.value);
        }
        let extract = listed.find((a) => a.title === 'Extract function');
        if (!extract.edit && !extract.command) {
            extract = await codeActions.resolveCodeAction(extract, token);
        }
        assert.ok(extract.edit, `Extract function came back without an edit: ${JSON.stringify(extract)}`);
        await vscode.workspace.applyEdit(extract.edit);
        if (extract.command) {
            await vscode.commands.executeCommand(extract.command.command, ...(extract.command.arguments ?? []));
        }
        const after = doc.getText().split('\n');
        // The server built it: a new top-level function taking what the lines read and returning
        // what later lines use, and the lines replaced by a call that assigns those names.
        const def = after.find((line) => /^def \w+\(values\):$/.test(line));
        assert.ok(def, `no extracted function in:\n${doc.getText()}`);
        const name = def.slice(4, def.indexOf('('));
        const assigned = new RegExp(`^    (\\w+), (\\w+) = ${name}\\(values\\)$`);
        const call = after.map((line) => line.match(assigned)).find(Boolean);
        assert.ok(call, `no call of ${name} in:\n${doc.getText()}`);
        assert.deepEqual([call[1], call[2]].sort(), ['count', 'total']);
        assert.ok(after.includes(`    return ${call[1]}, ${call[2]}`), doc.getText());
        assert.ok(after.includes('    mean = total / count'), doc.getText());
        assert.equal(doc.version > 1, true, 'the document was not edited');
        const stats = await api.stats();
        assert.equal(stats.modelState, 'ready');
    });

    it('restarts a server that crashed, and it answers again', async () => {
        const seen = stub.messages.length;
        const client = api.client;
        const pid = client._serverProcess?.pid;
        assert.ok(pid, 'no server pid');
        process.kill(pid, 'SIGKILL');
        await waitFor('a new server process', () => client.isRunning() && client._serverProcess?.pid !== pid, 30000);
        await waitFor('the model to load after the crash', async () => (await api.stats())?.modelState === 'ready', 90000, 200);
        assert.equal(api.client, client, 'the same client restarts its server');
        const result = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 11),
            { triggerKind: InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
            new CancellationTokenSource().token,
        );
        assert.ok(Array.isArray(items(result)), 'no answer after the restart (document not re-opened?)');
        const item = stub.statusBarItems.find((i) => i.id === 'codecomp.status');
        await waitFor('the status bar to recover', () => /cpu/.test(item.text), 10000);
        assert.deepEqual(stub.messages.slice(seen).filter((m) => m.level === 'error'), [], 'a crash that recovers needs no popup');
    });

    it('codecomp.restartServer starts a fresh server that answers', async () => {
        const old = api.client;
        await vscode.commands.executeCommand('codecomp.restartServer');
        const client = await api.ready();
        assert.ok(client && client !== old && client.isRunning(), 'no new running client');
        await waitFor('the model to load again', async () => (await api.stats())?.modelState === 'ready', 90000, 200);
        assert.equal((await api.stats()).requests, 0, 'the counters of a fresh server start at 0');
        const result = await provider('InlineCompletionItemProvider').provideInlineCompletionItems(
            document,
            new Position(8, 11),
            { triggerKind: InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
            new CancellationTokenSource().token,
        );
        assert.ok(Array.isArray(items(result)));
        assert.equal((await api.stats()).requests, 1);
    });

    it('deactivate stops the server process', async () => {
        const pid = api.client?._serverProcess?.pid;
        assert.ok(pid, 'no server pid');
        await extension.deactivate();
        extension = undefined;
        await waitFor('the server process to exit', () => {
            try {
                process.kill(pid, 0);
                return false;
            } catch {
                return true;
            }
        }, 10000);
    });
});
