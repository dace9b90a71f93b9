#!/usr/bin/env node
// A stand-in LSP server for client-side paths that are hard to reach with the real server: an "explain"
// code action (kind refactor.explain, resolved to a codecomp.explain command); a model catalog
// (codecomp/models) whose pull (codecomp/pullModel) reports `$/progress` like a real download; and
// codecomp/stats fields that the test sets with the notification `fake/setStats`.
'use strict';

const rpc = require('vscode-jsonrpc/node');

const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(process.stdin),
    new rpc.StreamMessageWriter(process.stdout),
);
const seen = [];

connection.onRequest('initialize', () => ({
    capabilities: {
        textDocumentSync: 2,
        codeActionProvider: { codeActionKinds: ['refactor.explain'], resolveProvider: true },
        // codecomp.pullModel as the real server advertises it: the extension has its own command of that id.
        executeCommandProvider: { commands: ['codecomp.explain', 'codecomp.pullModel'] },
    },
    serverInfo: { name: 'fake-codecomp' },
}));
let stats = { modelState: 'ready', model: 'fake', device: 'none', requests: 0 };
connection.onNotification('fake/setStats', (params) => {
    stats = { ...stats, ...params };
});
connection.onNotification((method, params) => seen.push({ method, params }));
connection.onRequest('textDocument/codeAction', (params) => {
    seen.push({ method: 'textDocument/codeAction', params });
    return [
        { title: 'Add docstring', kind: 'refactor.rewrite', data: { action: 'docstring' } },
        { title: 'Explain this code', kind: 'refactor.explain', data: { action: 'explain', range: params.range } },
    ];
});
connection.onRequest('codeAction/resolve', (action) => {
    seen.push({ method: 'codeAction/resolve', params: action });
    return { ...action, command: { title: 'Explain', command: 'codecomp.explain', arguments: [action.data] } };
});
connection.onRequest('workspace/executeCommand', (params) => {
    seen.push({ method: 'workspace/executeCommand', params });
    return { explanation: `It counts files (lines ${params.arguments[0].range.start.line + 1}-${params.arguments[0].range.end.line + 1}).` };
});
connection.onRequest('codecomp/stats', () => ({ ...stats, seen }));

const MB = 1000 * 1000;
const catalog = [
    { name: 'fake-big', description: 'a big fake model', sizeBytes: 1117 * MB, state: 'partial', installed: false, inUse: false },
    { name: 'fake-small', description: 'the fake model to pull first', sizeBytes: 1.5 * MB, state: 'absent', installed: false, inUse: false },
    { name: 'fake-tiny', description: 'the built-in fake', sizeBytes: 13 * MB, state: 'built-in', installed: true, inUse: true },
].map((m) => ({ family: 'fake', parameters: 1, quantization: 'bf16', license: 'MIT', path: null, default: m.inUse, ...m }));

connection.onRequest('codecomp/models', (params) => {
    seen.push({ method: 'codecomp/models', params });
    return { modelsDir: '/fake/models', recommended: 'fake-small', models: catalog };
});
connection.onRequest('codecomp/pullModel', async (params) => {
    seen.push({ method: 'codecomp/pullModel', params });
    const name = params && params.name;
    if (!catalog.some((m) => m.name === name)) {
        throw new rpc.ResponseError(-32602, `no model '${name}' in the catalog (known: ${catalog.map((m) => m.name).join(', ')})`);
    }
    // Like the server: create a token, then begin / report / end with "downloading NAME: done / total".
    const token = `fake-pull-${Date.now()}`;
    await connection.sendRequest('window/workDoneProgress/create', { token });
    const send = (value) => connection.sendNotification('$/progress', { token, value });
    send({ kind: 'begin', title: `codecomp: pulling ${name}`, cancellable: false });
    for (const percentage of [0, 40, 100]) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        send({ kind: 'report', message: `downloading ${name}: ${(percentage * 0.015).toFixed(1)} MB / 1.5 MB`, percentage });
    }
    send({ kind: 'end', message: `${name} is installed` });
    return { name, path: `/fake/models/${name}`, switching: name !== 'fake-big' };
});
connection.onRequest('shutdown', () => null);
connection.onNotification('exit', () => process.exit(0));
connection.listen();
