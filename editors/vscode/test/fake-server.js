#!/usr/bin/env node
// A stand-in LSP server for client-side paths the real server may not have yet: an "explain" code
// action (kind refactor.explain, resolved to a codecomp.explain command) and nothing else.
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
        executeCommandProvider: { commands: ['codecomp.explain'] },
    },
    serverInfo: { name: 'fake-codecomp' },
}));
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
connection.onRequest('codecomp/stats', () => ({ modelState: 'ready', model: 'fake', device: 'none', requests: 0, seen }));
connection.onRequest('shutdown', () => null);
connection.onNotification('exit', () => process.exit(0));
connection.listen();
