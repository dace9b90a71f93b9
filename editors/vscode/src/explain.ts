// "Explain selection": the "explain" code action the server offers for the selection (title or kind
// containing "explain", e.g. refactor.explain; resolved when needed, its command run and the result shown
// in the "codecomp explain" output channel). A server without code actions that lists the command gets
// workspace/executeCommand "codecomp.explain" directly; any other server gets a message.
import * as vscode from 'vscode';
import {
    CodeAction,
    CodeActionRequest,
    CodeActionResolveRequest,
    Command,
    ErrorCodes,
    ExecuteCommandRequest,
    LanguageClient,
    ResponseError,
} from 'vscode-languageclient/node';

export const EXPLAIN_COMMAND = 'codecomp.explain';
export const NOT_OFFERED_MESSAGE = 'codecomp: the server offers no explanation for this selection.';
export const UNSUPPORTED_MESSAGE =
    'codecomp: this server cannot explain code yet (it offers no "codecomp.explain" command or explain code action).';

function isExplainAction(action: CodeAction | Command): boolean {
    const command = 'command' in action && typeof action.command === 'string' ? action.command : undefined;
    const nested = 'command' in action && typeof action.command === 'object' ? action.command?.command : undefined;
    const kind = 'kind' in action ? action.kind ?? '' : '';
    return (
        /explain/i.test(action.title) ||
        /explain/i.test(kind) ||
        command === EXPLAIN_COMMAND ||
        nested === EXPLAIN_COMMAND
    );
}

/** Text to show for an executeCommand result of unknown shape (string, markup, {explanation}, …). */
export function resultText(result: unknown): string | undefined {
    if (result === null || result === undefined) {
        return undefined;
    }
    if (typeof result === 'string') {
        return result;
    }
    if (typeof result === 'object') {
        const r = result as Record<string, unknown>;
        for (const key of ['explanation', 'markdown', 'text', 'value', 'message']) {
            if (typeof r[key] === 'string') {
                return r[key] as string;
            }
        }
        return JSON.stringify(result, null, 2);
    }
    return String(result);
}

function isUnsupported(error: unknown): boolean {
    return error instanceof ResponseError && error.code === ErrorCodes.MethodNotFound;
}

export type ExplainOutcome = 'command' | 'codeAction' | 'unsupported' | 'noEditor' | 'notRunning' | 'error';

export async function explainSelection(
    client: LanguageClient | undefined,
    output: vscode.OutputChannel,
): Promise<ExplainOutcome> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
        void vscode.window.showInformationMessage('codecomp: open a file and select code to explain.');
        return 'noEditor';
    }
    if (!client || !client.isRunning()) {
        void vscode.window.showWarningMessage('codecomp: the server is not running.');
        return 'notRunning';
    }
    const document = editor.document;
    let selection: vscode.Range = editor.selection;
    if (selection.isEmpty) {
        selection = document.lineAt(selection.start.line).range;
    }
    const c2p = client.code2ProtocolConverter;
    const textDocument = c2p.asTextDocumentIdentifier(document);
    const range = c2p.asRange(selection);
    const caps = client.initializeResult?.capabilities;
    const show = (text: string): void => {
        output.appendLine(`── ${vscode.workspace.asRelativePath(document.uri)}:${selection.start.line + 1}-${selection.end.line + 1}`);
        output.appendLine(text);
        output.appendLine('');
        output.show(true);
    };
    try {
        // An "explain" code action first: it carries the command and arguments the server wants.
        if (caps?.codeActionProvider) {
            const actions =
                (await client.sendRequest(CodeActionRequest.type, {
                    textDocument,
                    range,
                    context: { diagnostics: [], triggerKind: 1 /* Invoked */ },
                })) ?? [];
            const found = actions.find(isExplainAction);
            if (found) {
                // A bare Command has a string `command`; a CodeAction (maybe still to resolve) does not.
                let command: Command | undefined;
                if (typeof found.command === 'string') {
                    command = found as Command;
                } else {
                    let action = found as CodeAction;
                    const resolvable =
                        typeof caps.codeActionProvider === 'object' && caps.codeActionProvider.resolveProvider;
                    if (!action.edit && !action.command && resolvable) {
                        action = await client.sendRequest(CodeActionResolveRequest.type, action);
                    }
                    if (action.edit) {
                        const edit = await client.protocol2CodeConverter.asWorkspaceEdit(action.edit);
                        await vscode.workspace.applyEdit(edit);
                    }
                    command = action.command;
                }
                if (command) {
                    // Server commands go to the server; others are VS Code commands the action names.
                    const result = caps.executeCommandProvider?.commands?.includes(command.command)
                        ? await client.sendRequest(ExecuteCommandRequest.type, {
                              command: command.command,
                              arguments: command.arguments,
                          })
                        : await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
                    const text = resultText(result);
                    if (text) {
                        show(text);
                    }
                }
                return 'codeAction';
            }
            void vscode.window.showInformationMessage(NOT_OFFERED_MESSAGE);
            return 'unsupported';
        }
        // A server without code actions: the command, with the selection as {textDocument, range, text}.
        if (caps?.executeCommandProvider?.commands?.includes(EXPLAIN_COMMAND)) {
            const result = await client.sendRequest(ExecuteCommandRequest.type, {
                command: EXPLAIN_COMMAND,
                arguments: [{ textDocument, range, text: document.getText(selection) }],
            });
            const text = resultText(result);
            if (text) {
                show(text);
            }
            return 'command';
        }
    } catch (error) {
        if (!isUnsupported(error)) {
            const message = error instanceof Error ? error.message : String(error);
            void vscode.window.showErrorMessage(`codecomp: explain failed: ${message}`);
            return 'error';
        }
    }
    void vscode.window.showInformationMessage(UNSUPPORTED_MESSAGE);
    return 'unsupported';
}
