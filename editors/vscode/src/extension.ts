// codecomp for VS Code: starts `codecomp-lsp` with vscode-languageclient and adds a status bar item,
// commands (toggle, restart, stats, explain, accept word/line) and the streaming preview.
import * as vscode from 'vscode';
import {
    ClientCapabilities,
    CloseAction,
    DidChangeConfigurationNotification,
    ErrorAction,
    FeatureState,
    LanguageClient,
    LanguageClientOptions,
    ResponseError,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    StaticFeature,
} from 'vscode-languageclient/node';
import { explainSelection, ExplainOutcome } from './explain';
import { lastServerError, pipeServerStderr, pipeServerStdout } from './serverLog';
import {
    findExecutable,
    pickServerSettings,
    resolveServerCommand,
    RESTART_KEYS,
    SECTION,
    serverSettings,
} from './settings';
import { StatsSnapshot, StatusView } from './status';

export const STATS_METHOD = 'codecomp/stats';
export const STREAM_METHOD = 'codecomp/completionStream';

export interface StreamParams {
    uri: string;
    version: number;
    position: { line: number; character: number };
    text: string;
    done: boolean;
}

/** What `activate` returns: used by other extensions and by the smoke test. */
export interface CodecompApi {
    readonly client: LanguageClient | undefined;
    readonly status: StatusView;
    readonly log: vscode.LogOutputChannel;
    readonly statsChannel: vscode.OutputChannel;
    readonly onDidStream: vscode.Event<StreamParams>;
    /** The running client, once the current start finished (undefined when it failed). */
    ready(): Promise<LanguageClient | undefined>;
    stats(reset?: boolean): Promise<StatsSnapshot | undefined>;
    restart(): Promise<void>;
    explainSelection(): Promise<ExplainOutcome>;
}

/** Advertises `experimental.codecompCompletionStream` so the server streams ghost text to us. */
class CompletionStreamCapability implements StaticFeature {
    fillClientCapabilities(capabilities: ClientCapabilities): void {
        const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
        experimental.codecompCompletionStream = true;
        capabilities.experimental = experimental;
    }
    initialize(): void {}
    getState(): FeatureState {
        return { kind: 'static' };
    }
    clear(): void {}
}

/** "loading /long/path/to/model-dir" → "loading model-dir" (the status bar has little room). */
export function shortenPaths(message: string | undefined): string | undefined {
    return message?.replace(/(?:[A-Za-z]:)?[\\/](?:[^\s\\/]+[\\/])+([^\s\\/]+)/g, '$1');
}

function errorMessage(error: unknown): string {
    if (error instanceof ResponseError) {
        return `${error.message} (${error.code})`;
    }
    return error instanceof Error ? error.message : String(error);
}

class Codecomp implements CodecompApi {
    client: LanguageClient | undefined;
    readonly status = new StatusView();
    readonly log = vscode.window.createOutputChannel('codecomp', { log: true });
    readonly statsChannel = vscode.window.createOutputChannel('codecomp stats', 'json');
    readonly explainChannel = vscode.window.createOutputChannel('codecomp explain', 'markdown');
    private readonly streamEmitter = new vscode.EventEmitter<StreamParams>();
    readonly onDidStream = this.streamEmitter.event;
    private starting: Promise<LanguageClient | undefined> = Promise.resolve(undefined);
    private statsTimer: ReturnType<typeof setTimeout> | undefined;
    private streamTimer: ReturnType<typeof setTimeout> | undefined;
    private disposed = false;

    constructor(context: vscode.ExtensionContext) {
        this.status.enabled = this.enabled;
        context.subscriptions.push(this.status, this.log, this.statsChannel, this.explainChannel, this.streamEmitter);
    }

    get enabled(): boolean {
        return vscode.workspace.getConfiguration(SECTION).get<boolean>('enable', true);
    }

    ready(): Promise<LanguageClient | undefined> {
        return this.starting;
    }

    start(): Promise<LanguageClient | undefined> {
        this.starting = this.doStart();
        return this.starting;
    }

    private async doStart(): Promise<LanguageClient | undefined> {
        const server = resolveServerCommand();
        if (findExecutable(server.command) === undefined) {
            const message =
                server.command === 'codecomp-lsp'
                    ? 'codecomp: `codecomp-lsp` is not on PATH. Install it (`pip install -e .` in the codecomp-lsp repository) or set codecomp.pythonPath or codecomp.serverCommand.'
                    : `codecomp: ${server.description} was not found.`;
            this.log.error(message);
            this.status.setPhase('stopped', 'server not found');
            void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
                if (choice === 'Open Settings') {
                    void vscode.commands.executeCommand('workbench.action.openSettings', '@ext:codecomp.codecomp server');
                }
            });
            return undefined;
        }
        const serverOptions: ServerOptions = {
            command: server.command,
            args: server.args,
            options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
        };
        let lastSent = ''; // the settings the server has: initializationOptions, then each push
        let running = false; // the server answered initialize: a later exit is a crash
        const crashes: number[] = [];
        const clientOptions: LanguageClientOptions = {
            // One clear message of ours instead of vscode-languageclient's storm of retries and popups.
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationFailedHandler: () => false,
            errorHandler: {
                error: (_error, _message, count) => ({
                    action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
                    handled: true,
                }),
                closed: () => {
                    if (!running) {
                        return { action: CloseAction.DoNotRestart, handled: true };
                    }
                    const now = Date.now();
                    crashes.push(now);
                    while (crashes.length > 0 && now - crashes[0] > 180_000) {
                        crashes.shift();
                    }
                    if (crashes.length > 3) {
                        this.showServerFailure(`the server crashed ${crashes.length} times in 3 minutes and stays stopped`);
                        return { action: CloseAction.DoNotRestart, handled: true };
                    }
                    this.log.warn('the server exited: restarting it');
                    return { action: CloseAction.Restart, handled: true };
                },
            },
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            // A function: a server that vscode-languageclient restarts after a crash gets today's settings.
            initializationOptions: () => {
                const settings = serverSettings();
                lastSent = JSON.stringify(settings);
                return settings;
            },
            synchronize: { configurationSection: SECTION },
            outputChannel: this.log,
            stdioOptions: { stdout: pipeServerStdout, stderr: pipeServerStderr },
            middleware: {
                provideInlineCompletionItems: async (document, position, context, token, next) => {
                    if (!this.enabled) {
                        return null;
                    }
                    const started = Date.now();
                    try {
                        return await next(document, position, context, token);
                    } finally {
                        this.completed(started, token);
                    }
                },
                provideCompletionItem: async (document, position, context, token, next) => {
                    const config = vscode.workspace.getConfiguration(SECTION);
                    if (!this.enabled || !config.get<boolean>('completionMenu', true)) {
                        return null;
                    }
                    const started = Date.now();
                    try {
                        return await next(document, position, context, token);
                    } finally {
                        this.completed(started, token);
                    }
                },
                handleWorkDoneProgress: (token, params, next) => {
                    if (params.kind === 'begin') {
                        this.status.setProgress(shortenPaths(params.message ?? params.title), params.percentage);
                    } else if (params.kind === 'report') {
                        this.status.setProgress(shortenPaths(params.message), params.percentage);
                    } else {
                        this.scheduleStats(0);
                    }
                    next(token, params);
                },
                workspace: {
                    // The server pulls section `codecomp`: send it only the server's own settings.
                    configuration: async (params, token, next) => {
                        const result = await next(params, token);
                        if (!Array.isArray(result)) {
                            return result;
                        }
                        return result.map((value, i) =>
                            params.items[i]?.section === SECTION ? pickServerSettings(value) : value,
                        );
                    },
                    // Push {codecomp: {...server settings}} when they changed (not for client-only keys).
                    didChangeConfiguration: async (_sections, _next) => {
                        const settings = serverSettings();
                        const json = JSON.stringify(settings);
                        if (json === lastSent || !client.isRunning()) {
                            return;
                        }
                        lastSent = json;
                        await client.sendNotification(DidChangeConfigurationNotification.type, {
                            settings: { [SECTION]: settings },
                        });
                        this.scheduleStats(500);
                    },
                },
            },
        };
        const client = new LanguageClient('codecomp', 'codecomp', serverOptions, clientOptions);
        client.registerFeature(new CompletionStreamCapability());
        client.onNotification(STREAM_METHOD, (params: StreamParams) => this.onStream(params));
        client.onDidChangeState((event) => {
            if (this.client !== client) {
                return;
            }
            if (event.newState === State.Starting) {
                this.status.setPhase('starting');
            } else if (event.newState === State.Running) {
                running = true; // also after vscode-languageclient restarted a crashed server
                this.status.setPhase('loading');
                this.scheduleStats(0);
            } else {
                this.status.setPhase('stopped', lastServerError() ?? '');
            }
        });
        this.client = client;
        this.status.setPhase('starting');
        this.log.info(`starting ${server.description}: ${[server.command, ...server.args].join(' ')}`);
        try {
            await client.start();
        } catch (error) {
            // vscode-languageclient has already shown "couldn't create connection"; say why.
            this.log.error(`could not start the server with ${server.description}: ${errorMessage(error)}`);
            this.status.setPhase('stopped', lastServerError() ?? errorMessage(error));
            this.showServerFailure(`the server (${server.description}) did not start`);
            return undefined;
        }
        if (this.disposed || this.client !== client) {
            return undefined;
        }
        return client;
    }

    private showServerFailure(what: string): void {
        const reason = lastServerError();
        const message = `codecomp: ${what}${reason ? `: ${reason}` : ''}`;
        this.log.error(message);
        void vscode.window.showErrorMessage(message, 'Show Output', 'Restart').then((choice) => {
            if (choice === 'Show Output') {
                this.log.show(true);
            } else if (choice === 'Restart') {
                void this.restart();
            }
        });
    }

    private completed(started: number, token: vscode.CancellationToken): void {
        if (!token.isCancellationRequested) {
            this.status.setLatency(Date.now() - started);
        }
        this.scheduleStats(1000);
    }

    private onStream(params: StreamParams): void {
        this.streamEmitter.fire(params);
        const active = vscode.window.activeTextEditor?.document.uri.toString();
        if (active !== undefined && active !== params.uri) {
            return;
        }
        if (this.streamTimer) {
            clearTimeout(this.streamTimer);
            this.streamTimer = undefined;
        }
        if (params.done) {
            this.status.setStreaming(undefined);
            return;
        }
        this.status.setStreaming(params.text);
        // A cancelled or superseded request ends without `done`: do not leave its text up.
        this.streamTimer = setTimeout(() => this.status.setStreaming(undefined), 3000);
    }

    /** Refresh the status bar from codecomp/stats; polls while the model loads. */
    scheduleStats(delayMs: number): void {
        if (this.statsTimer) {
            clearTimeout(this.statsTimer);
        }
        this.statsTimer = setTimeout(() => {
            this.statsTimer = undefined;
            void this.stats().then((stats) => {
                if (stats && (stats.modelState === 'loading' || stats.modelState === 'idle')) {
                    this.scheduleStats(1000);
                }
            });
        }, delayMs);
    }

    async stats(reset = false): Promise<StatsSnapshot | undefined> {
        const client = this.client;
        if (!client || !client.isRunning()) {
            return undefined;
        }
        try {
            const stats = await client.sendRequest<StatsSnapshot>(STATS_METHOD, reset ? { reset: true } : {});
            if (this.client === client) {
                this.status.setStats(stats);
            }
            return stats;
        } catch (error) {
            this.log.warn(`codecomp/stats failed: ${errorMessage(error)}`);
            return undefined;
        }
    }

    async stop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.dispose(5000);
            } catch (error) {
                this.log.warn(`stopping the server: ${errorMessage(error)}`);
            }
        }
    }

    async restart(): Promise<void> {
        await this.stop();
        if (!this.disposed) {
            await this.start();
        }
    }

    async toggle(): Promise<void> {
        const config = vscode.workspace.getConfiguration(SECTION);
        const next = !this.enabled;
        const inspect = config.inspect<boolean>('enable');
        // Change the value where it is set (workspace over user), or the user setting.
        const target =
            inspect?.workspaceFolderValue !== undefined
                ? vscode.ConfigurationTarget.WorkspaceFolder
                : inspect?.workspaceValue !== undefined
                  ? vscode.ConfigurationTarget.Workspace
                  : vscode.ConfigurationTarget.Global;
        await config.update('enable', next, target);
        this.status.enabled = next;
        this.status.render();
        if (!next) {
            void vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
        }
    }

    async showStats(): Promise<StatsSnapshot | undefined> {
        const stats = await this.stats();
        if (!stats) {
            void vscode.window.showWarningMessage('codecomp: the server is not running.');
            return undefined;
        }
        this.statsChannel.clear();
        this.statsChannel.appendLine(JSON.stringify(stats, null, 2));
        this.statsChannel.show(true);
        return stats;
    }

    explainSelection(): Promise<ExplainOutcome> {
        return explainSelection(this.client, this.explainChannel);
    }

    onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
        if (event.affectsConfiguration(`${SECTION}.enable`)) {
            this.status.enabled = this.enabled;
            this.status.render();
        }
        if (RESTART_KEYS.some((key) => event.affectsConfiguration(key))) {
            this.log.info('server command changed: restarting the server');
            void this.restart();
        }
    }

    async dispose(): Promise<void> {
        this.disposed = true;
        if (this.statsTimer) {
            clearTimeout(this.statsTimer);
        }
        if (this.streamTimer) {
            clearTimeout(this.streamTimer);
        }
        await this.stop();
    }
}

let instance: Codecomp | undefined;

export function activate(context: vscode.ExtensionContext): CodecompApi {
    const codecomp = new Codecomp(context);
    instance = codecomp;
    const register = (id: string, run: (...args: unknown[]) => unknown): void => {
        context.subscriptions.push(vscode.commands.registerCommand(id, run));
    };
    register('codecomp.toggle', () => codecomp.toggle());
    register('codecomp.restartServer', () => codecomp.restart());
    register('codecomp.showStats', () => codecomp.showStats());
    register('codecomp.explainSelection', () => codecomp.explainSelection());
    register('codecomp.acceptWord', () => vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord'));
    register('codecomp.acceptLine', () => vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextLine'));
    context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((event) => codecomp.onConfigurationChanged(event)),
    );
    void codecomp.start();
    return codecomp;
}

export async function deactivate(): Promise<void> {
    const codecomp = instance;
    instance = undefined;
    await codecomp?.dispose();
}
