// codecomp for VS Code: starts `codecomp-lsp` with vscode-languageclient and adds a status bar item,
// commands (toggle, restart, stats, explain, pull a model, accept word/line) and the streaming preview.
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
    ServerCapabilities,
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
import { PULL_COMMAND, StatsSnapshot, StatusView } from './status';

export const STATS_METHOD = 'codecomp/stats';
export const STREAM_METHOD = 'codecomp/completionStream';
export const CURSOR_METHOD = 'codecomp/cursor';
/** How long the cursor must rest before the server is told (it then prefills there). */
const CURSOR_DEBOUNCE_MS = 150;
export const MODELS_METHOD = 'codecomp/models';
/** Reports on inline suggestions (the server counts them in `codecomp/stats` → `acceptance`). */
export const SHOW_METHOD = 'codecomp/didShow';
export const ACCEPT_METHOD = 'codecomp/didAccept';
export const DISMISS_METHOD = 'codecomp/didDismiss';
/** The command of every inline item of the server: VS Code runs it when the item is accepted. */
export const ACCEPT_COMMAND = 'codecomp.didAcceptInline';
export const PULL_METHOD = 'codecomp/pullModel';
export { PULL_COMMAND };

/** One row of `codecomp/models`: a catalog model and its state in the local model store. */
export interface CatalogModel {
    name: string;
    description: string;
    family: string;
    parameters: number;
    quantization: string;
    sizeBytes: number;
    license: string;
    /** installed | downloaded | partial | absent | built-in */
    state: string;
    installed: boolean;
    path: string | null;
    /** What the server picks with `codecomp.model` empty, on this machine now. */
    default: boolean;
    inUse: boolean;
}

export interface ModelsResult {
    modelsDir: string;
    /** The catalog model to pull first on this machine's device. */
    recommended: string | null;
    models: CatalogModel[];
}

export interface PullResult {
    name: string;
    path: string;
    /** The pulled model is (or may become) the one that answers: the server reloads when it changed. */
    switching: boolean;
}

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
    /** `codecomp/models`: the catalog and what is pulled (undefined when the server is not running). */
    models(): Promise<ModelsResult | undefined>;
    /** What `codecomp.pullModel` runs: a QuickPick of the catalog without `name`, then the pull with progress. */
    pullModel(name?: string): Promise<PullResult | undefined>;
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

/**
 * Commands this extension implements with its own UI although the server advertises them too
 * (`codecomp.pullModel`: it asks the server's `codecomp/pullModel` request). vscode-languageclient would
 * register the server's commands as VS Code commands, and a second registration of an id fails the start.
 */
const CLIENT_COMMANDS: ReadonlySet<string> = new Set([PULL_COMMAND]);

class ClientCommandsFeature implements StaticFeature {
    fillClientCapabilities(): void {}
    /** Runs before the built-in features see the capabilities (a copy: initializeResult keeps the original). */
    preInitialize(capabilities: ServerCapabilities): void {
        const provider = capabilities.executeCommandProvider;
        if (provider?.commands) {
            capabilities.executeCommandProvider = {
                ...provider,
                commands: provider.commands.filter((command) => !CLIENT_COMMANDS.has(command)),
            };
        }
    }
    initialize(): void {}
    getState(): FeatureState {
        return { kind: 'static' };
    }
    clear(): void {}
}

/** The id the server put in an inline item's command arguments, if any. */
export function inlineItemId(item: vscode.InlineCompletionItem | undefined): string | undefined {
    const first: unknown = item?.command?.arguments?.[0];
    const id = typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id ? id : undefined;
}

/** The server's byte format: 491.4 MB. */
export function humanBytes(n: number): string {
    const units = ['B', 'kB', 'MB', 'GB'];
    let i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) {
        n /= 1000;
        i += 1;
    }
    return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

const STATE_WORDS: Record<string, string> = {
    installed: 'installed',
    'built-in': 'built in',
    downloaded: 'downloaded, not converted yet',
    partial: 'partly downloaded',
    absent: 'not downloaded',
};

export interface ModelPick extends vscode.QuickPickItem {
    model: CatalogModel;
}

/** QuickPick items for `codecomp/models`: the recommended model first, then the catalog's order. */
export function modelPicks(catalog: ModelsResult): ModelPick[] {
    const recommendedFirst = (m: CatalogModel): number => (m.name === catalog.recommended ? 0 : 1);
    return [...catalog.models]
        .sort((a, b) => recommendedFirst(a) - recommendedFirst(b))
        .map((model) => {
            const tags = [humanBytes(model.sizeBytes), STATE_WORDS[model.state] ?? model.state];
            if (model.inUse) {
                tags.push('in use');
            }
            if (model.name === catalog.recommended) {
                tags.push('recommended');
            }
            return {
                label: `${model.installed ? '$(check)' : '$(cloud-download)'} ${model.name}`,
                description: tags.join(' · '),
                detail: model.description,
                model,
            };
        });
}

/** The title of the server's `$/progress` for a pull: "codecomp: pulling NAME". */
const PULL_TITLE = /^codecomp: pulling (\S+)/;

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

/** The message alone: the server words its errors for users. */
function userMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

/** Where to change a setting: where it is set (workspace folder over workspace), else the user settings. */
function settingTarget(config: vscode.WorkspaceConfiguration, key: string): vscode.ConfigurationTarget {
    const inspect = config.inspect(key);
    return inspect?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : inspect?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
}

/** The notification of a running pull, fed from the server's `$/progress` for it. */
interface PullReporter {
    name: string;
    progress: vscode.Progress<{ message?: string; increment?: number }>;
    percentage: number;
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
    private cursorTimer: ReturnType<typeof setTimeout> | undefined;
    /** The inline suggestion last reported shown: accept word/line and dismiss report on it. */
    private shownInline: { id: string; uri: string } | undefined;
    private disposed = false;
    /** `$/progress` tokens of pulls (title "codecomp: pulling NAME") → NAME. */
    private readonly pullTokens = new Map<string | number, string>();
    private pullReporter: PullReporter | undefined;

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
                        const result = await next(document, position, context, token);
                        if (!token.isCancellationRequested) {
                            this.reportShown(document, result);
                        }
                        return result;
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
                    // A pull (`codecomp/pullModel`) runs beside the model in use; a load replaces it.
                    if (params.kind === 'begin') {
                        const pulling = PULL_TITLE.exec(params.title)?.[1];
                        if (pulling !== undefined) {
                            this.pullTokens.set(token, pulling);
                            this.onPullProgress(pulling, params.message ?? `pulling ${pulling}`, params.percentage);
                        } else {
                            this.status.setProgress(shortenPaths(params.message ?? params.title), params.percentage);
                        }
                    } else if (params.kind === 'report') {
                        const pulling = this.pullTokens.get(token);
                        if (pulling !== undefined) {
                            this.onPullProgress(pulling, params.message, params.percentage);
                        } else {
                            this.status.setProgress(shortenPaths(params.message), params.percentage);
                        }
                    } else {
                        if (this.pullTokens.delete(token)) {
                            this.status.setPull(undefined);
                        }
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
        client.registerFeature(new ClientCommandsFeature());
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
                const state = stats?.modelState;
                if (state === 'loading' || state === 'idle' || state === 'pulling') {
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
        await config.update('enable', next, settingTarget(config, 'enable'));
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

    async models(): Promise<ModelsResult | undefined> {
        const client = this.client;
        if (!client || !client.isRunning()) {
            return undefined;
        }
        return client.sendRequest<ModelsResult>(MODELS_METHOD, {});
    }

    /** Pull `name`, or the catalog model picked from a QuickPick; progress in a notification. */
    async pullModel(name?: string): Promise<PullResult | undefined> {
        const client = this.client;
        if (!client || !client.isRunning()) {
            void vscode.window.showWarningMessage('codecomp: the server is not running.');
            return undefined;
        }
        if (name === undefined) {
            let catalog: ModelsResult;
            try {
                catalog = await client.sendRequest<ModelsResult>(MODELS_METHOD, {});
            } catch (error) {
                const message = `codecomp: could not list the models: ${userMessage(error)}`;
                this.log.error(message);
                void vscode.window.showErrorMessage(message);
                return undefined;
            }
            const picked = await vscode.window.showQuickPick(modelPicks(catalog), {
                title: 'codecomp: Pull Model',
                placeHolder: `A catalog model to download into ${catalog.modelsDir}`,
                matchOnDescription: true,
                matchOnDetail: true,
            });
            if (!picked) {
                return undefined;
            }
            name = picked.model.name;
        }
        const pulling = name;
        this.log.info(`pulling ${pulling}`);
        let result: PullResult;
        try {
            result = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: `codecomp: pulling ${pulling}`, cancellable: false },
                async (progress) => {
                    const reporter = { name: pulling, progress, percentage: 0 };
                    this.pullReporter = reporter;
                    try {
                        return await client.sendRequest<PullResult>(PULL_METHOD, { name: pulling });
                    } finally {
                        if (this.pullReporter === reporter) {
                            this.pullReporter = undefined;
                        }
                    }
                },
            );
        } catch (error) {
            const message = `codecomp: pulling ${pulling} failed: ${userMessage(error)}`;
            this.log.error(message);
            void vscode.window.showErrorMessage(message);
            return undefined;
        }
        this.log.info(`pulled ${result.name} into ${result.path}${result.switching ? '' : ' (another model is configured)'}`);
        this.scheduleStats(0);
        if (result.switching) {
            void vscode.window.showInformationMessage(`codecomp: ${result.name} is installed.`);
        } else {
            const use = `Use ${result.name}`;
            void vscode.window
                .showInformationMessage(
                    `codecomp: ${result.name} is installed; the configured model (codecomp.model) still answers. Set codecomp.model to "${result.name}" to use it.`,
                    use,
                )
                .then(async (choice) => {
                    if (choice === use) {
                        const config = vscode.workspace.getConfiguration(SECTION);
                        await config.update('model', result.name, settingTarget(config, 'model'));
                    }
                });
        }
        return result;
    }

    private onPullProgress(name: string, message: string | undefined, percentage: number | undefined): void {
        this.status.setPull(shortenPaths(message) ?? `pulling ${name}`, percentage);
        const reporter = this.pullReporter;
        if (reporter?.name !== name) {
            return;
        }
        const increment = percentage !== undefined ? Math.max(0, percentage - reporter.percentage) : undefined;
        if (percentage !== undefined) {
            reporter.percentage = Math.max(reporter.percentage, percentage);
        }
        reporter.progress.report({ message, increment });
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

    /**
     * Tells the server where the cursor rests (`codecomp/cursor`), so it prefills the model's cache
     * there before the first keystroke: a file just opened or a jump to another function would
     * otherwise cost a cold prompt of seconds on a CPU. Debounced: only a cursor that stays counts.
     */
    reportCursor(editor: vscode.TextEditor | undefined): void {
        if (this.cursorTimer) {
            clearTimeout(this.cursorTimer);
        }
        const client = this.client;
        if (!editor || !client || !client.isRunning() || !['file', 'untitled'].includes(editor.document.uri.scheme)) {
            return;
        }
        const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
        const position = editor.selection.active;
        this.cursorTimer = setTimeout(() => {
            if (this.client === client && client.isRunning()) {
                void client
                    .sendNotification(CURSOR_METHOD, {
                        textDocument: { uri },
                        position: { line: position.line, character: position.character },
                    })
                    .catch(() => undefined);
            }
        }, CURSOR_DEBOUNCE_MS);
    }

    private report(method: string, params: Record<string, unknown>): void {
        const client = this.client;
        if (client && client.isRunning()) {
            void client.sendNotification(method, params).catch(() => undefined);
        }
    }

    /** VS Code shows the first item it is given: report it shown (`codecomp/didShow`). */
    reportShown(
        document: vscode.TextDocument,
        result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined,
    ): void {
        const first = Array.isArray(result) ? result[0] : result?.items[0];
        const id = inlineItemId(first);
        if (id !== undefined && id !== this.shownInline?.id) {
            this.shownInline = { id, uri: document.uri.toString() };
            this.report(SHOW_METHOD, { id });
        }
    }

    /** The item's command, run by VS Code when the whole suggestion was accepted. */
    reportAccepted(args: unknown): void {
        const id = typeof args === 'object' && args !== null ? (args as { id?: unknown }).id : undefined;
        const length = (args as { length?: unknown } | undefined)?.length;
        if (typeof id === 'string') {
            this.report(ACCEPT_METHOD, { id, kind: 'full', ...(typeof length === 'number' ? { length } : {}) });
            if (this.shownInline?.id === id) {
                this.shownInline = undefined;
            }
        }
    }

    /** Accept the next word or line of the suggestion and report how many characters went in. */
    async acceptPart(kind: 'word' | 'line'): Promise<void> {
        const editor = vscode.window.activeTextEditor;
        const before = editor ? editor.document.offsetAt(editor.selection.active) : undefined;
        const command = kind === 'word' ? 'acceptNextWord' : 'acceptNextLine';
        await vscode.commands.executeCommand(`editor.action.inlineSuggest.${command}`);
        const shown = this.shownInline;
        if (!editor || before === undefined || !shown || editor.document.uri.toString() !== shown.uri) {
            return;
        }
        const length = editor.document.offsetAt(editor.selection.active) - before;
        if (length > 0) {
            this.report(ACCEPT_METHOD, { id: shown.id, kind, length });
        }
    }

    /** Escape while a suggestion is shown: hide it and report the dismissal. */
    async dismissInline(): Promise<void> {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
        const shown = this.shownInline;
        this.shownInline = undefined;
        if (shown) {
            this.report(DISMISS_METHOD, { id: shown.id });
        }
    }

    async dispose(): Promise<void> {
        this.disposed = true;
        if (this.cursorTimer) {
            clearTimeout(this.cursorTimer);
        }
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
    // Also `executeCommand('codecomp.pullModel', name)`, like the server's command of the same name.
    register(PULL_COMMAND, (name) => codecomp.pullModel(typeof name === 'string' && name ? name : undefined));
    register('codecomp.acceptWord', () => codecomp.acceptPart('word'));
    register('codecomp.acceptLine', () => codecomp.acceptPart('line'));
    register('codecomp.dismissInline', () => codecomp.dismissInline());
    register(ACCEPT_COMMAND, (args) => codecomp.reportAccepted(args));
    context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((event) => codecomp.onConfigurationChanged(event)),
        vscode.window.onDidChangeActiveTextEditor((editor) => codecomp.reportCursor(editor)),
        vscode.window.onDidChangeTextEditorSelection((event) => codecomp.reportCursor(event.textEditor)),
    );
    void codecomp.start();
    return codecomp;
}

export async function deactivate(): Promise<void> {
    const codecomp = instance;
    instance = undefined;
    await codecomp?.dispose();
}
