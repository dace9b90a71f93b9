// The server logs to stderr as "2025-01-01 12:00:00,123 LEVEL logger: message" (Python logging).
// Show each line in the log output channel at its own level instead of everything as an error.
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { LogOutputChannel } from 'vscode';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LINE = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[,.]\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$/;
const LEVELS: Record<string, Level> = {
    DEBUG: 'debug',
    INFO: 'info',
    WARNING: 'warn',
    ERROR: 'error',
    CRITICAL: 'error',
};

/** The level and text of one stderr line; lines without a prefix (tracebacks) keep `previous`. */
export function classify(line: string, previous: Level): [Level, string] {
    const match = LINE.exec(line);
    if (match) {
        return [LEVELS[match[1]] ?? 'info', match[2]];
    }
    if (line.startsWith('Traceback (most recent call last)')) {
        return ['error', line];
    }
    return [previous, line];
}

/** Lines can still arrive while the window closes, after the channel is gone: drop them then. */
function write(channel: LogOutputChannel, level: Level, text: string): void {
    try {
        channel[level](text);
    } catch {
        // the output channel is closed
    }
}

/** The last lines the server wrote to stderr (the reason it exited, usually). */
export const stderrTail: string[] = [];

export function lastServerError(): string | undefined {
    const lines = stderrTail.filter((l) => l.trim());
    return lines.length ? lines[lines.length - 1].trim() : undefined;
}

export function pipeServerStderr(input: Readable, channel: LogOutputChannel): void {
    let level: Level = 'info';
    stderrTail.length = 0;
    readline
        .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
        .on('line', (line) => {
            const [next, text] = classify(line, level);
            level = next;
            write(channel, level, text);
            stderrTail.push(text);
            if (stderrTail.length > 20) {
                stderrTail.shift();
            }
        });
}

/** stdout is the LSP stream with the stdio transport; anything else on it is logged as info. */
export function pipeServerStdout(input: Readable, channel: LogOutputChannel): void {
    readline
        .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
        .on('line', (line) => write(channel, 'info', line));
}
