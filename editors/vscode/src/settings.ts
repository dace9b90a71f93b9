// Which `codecomp.*` settings belong to the server (sent to it) and which only to this extension.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const SECTION = 'codecomp';

/**
 * `codecomp.*` settings that belong to this extension. Everything else under `codecomp` goes to the
 * server (package.json contributes the README's settings table; settings the server gained since still
 * pass through when a user writes them in settings.json).
 */
export const CLIENT_KEYS: ReadonlySet<string> = new Set([
    'enable',
    'completionMenu',
    'serverCommand',
    'serverArgs',
    'pythonPath',
    'trace', // trace.server, read by vscode-languageclient
]);

export type ServerSettings = Record<string, unknown>;

/**
 * The server's settings from a `codecomp` configuration object: client-only keys are dropped, because
 * the server warns about keys it does not know; an empty `model` means the server's default.
 */
export function pickServerSettings(raw: unknown): ServerSettings {
    const out: ServerSettings = {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        return out;
    }
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (CLIENT_KEYS.has(key) || value === undefined || value === null || typeof value === 'function') {
            continue;
        }
        if (key === 'model' && value === '') {
            continue;
        }
        out[key] = value;
    }
    return out;
}

/** The current server settings from the VS Code configuration (as plain JSON). */
export function serverSettings(): ServerSettings {
    const section = vscode.workspace.getConfiguration().get<Record<string, unknown>>(SECTION);
    return pickServerSettings(section ? JSON.parse(JSON.stringify(section)) : undefined);
}

export interface ServerCommand {
    command: string;
    args: string[];
    description: string;
}

/** `codecomp.serverCommand` (+ serverArgs), else `codecomp.pythonPath -m codecomp_lsp`, else `codecomp-lsp` on PATH. */
export function resolveServerCommand(): ServerCommand {
    const config = vscode.workspace.getConfiguration(SECTION);
    const extraArgs = (config.get<string[]>('serverArgs') ?? []).filter((a) => typeof a === 'string');
    const command = (config.get<string>('serverCommand') ?? '').trim();
    if (command) {
        return { command, args: extraArgs, description: `codecomp.serverCommand (${command})` };
    }
    const python = (config.get<string>('pythonPath') ?? '').trim();
    if (python) {
        return {
            command: python,
            args: ['-m', 'codecomp_lsp', ...extraArgs],
            description: `codecomp.pythonPath (${python} -m codecomp_lsp)`,
        };
    }
    return { command: 'codecomp-lsp', args: extraArgs, description: 'codecomp-lsp on PATH' };
}

/** Settings whose change needs a new server process (the others go to the running server). */
export const RESTART_KEYS = ['serverCommand', 'serverArgs', 'pythonPath'].map((k) => `${SECTION}.${k}`);

/** Where `command` would be run from: itself when it has a directory part, else the first PATH hit. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
    const isFile = (candidate: string): boolean => {
        try {
            fs.accessSync(candidate, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
            return fs.statSync(candidate).isFile();
        } catch {
            return false;
        }
    };
    if (command.includes('/') || command.includes(path.sep)) {
        return exts.map((e) => command + e).find(isFile);
    }
    for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
        const hit = exts.map((e) => path.join(dir, command + e)).find(isFile);
        if (hit) {
            return hit;
        }
    }
    return undefined;
}
