// The status bar item: on/off, server and model state, loading and pull progress, model/device, latency,
// and whether the small built-in fallback model answers.
import * as vscode from 'vscode';

export type Phase = 'starting' | 'loading' | 'pulling' | 'ready' | 'failed' | 'stopped';

/** The command that pulls a catalog model (the tooltip links to it). */
export const PULL_COMMAND = 'codecomp.pullModel';

export interface StatsSnapshot {
    requests?: number;
    model?: string | null;
    device?: string | null;
    dtype?: string | null;
    /** idle | pulling | loading | ready | failed */
    modelState?: string;
    modelError?: string | null;
    /** Why this model answers ("configured", "the best pulled model for cpu", …). */
    modelReason?: string | null;
    /** The built-in codecomp-tiny answers because no better model is pulled or the chosen one failed. */
    modelFallback?: boolean;
    latencyMs?: Record<string, { p50: number; p95: number; count: number }>;
    [key: string]: unknown;
}

function shortModel(model: string | null | undefined): string {
    if (!model) {
        return 'model';
    }
    const parts = model.replace(/[\\/]+$/, '').split(/[\\/]/);
    return parts[parts.length - 1] || model;
}

function withPercentage(message: string | undefined, percentage?: number): string {
    return [message, percentage !== undefined ? `${percentage}%` : undefined].filter(Boolean).join(' ');
}

function oneLine(text: string, max: number): string {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export class StatusView implements vscode.Disposable {
    readonly item: vscode.StatusBarItem;
    enabled = true;
    phase: Phase = 'starting';
    progressMessage = '';
    lastLatencyMs: number | undefined;
    stats: StatsSnapshot | undefined;
    streamingText: string | undefined;
    /** The progress of a `codecomp/pullModel` while the current model keeps answering. */
    pullMessage: string | undefined;
    detail = '';

    constructor() {
        this.item = vscode.window.createStatusBarItem('codecomp.status', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'codecomp';
        this.item.command = 'codecomp.toggle';
        this.render();
        this.item.show();
    }

    setPhase(phase: Phase, detail = ''): void {
        this.phase = phase;
        this.detail = detail;
        if (phase !== 'loading' && phase !== 'pulling') {
            this.progressMessage = '';
        }
        if (phase === 'starting' || phase === 'stopped') {
            this.pullMessage = undefined; // a new server process: any pull of the old one is gone
        }
        this.render();
    }

    setStats(stats: StatsSnapshot): void {
        this.stats = stats;
        const state = stats.modelState;
        if (state === 'loading' || state === 'idle') {
            this.phase = 'loading';
        } else if (state === 'pulling') {
            this.phase = 'pulling';
        } else if (state === 'failed') {
            this.phase = 'failed';
            this.detail = stats.modelError ?? 'model failed to load';
        } else if (state === 'ready') {
            this.phase = 'ready';
            this.detail = '';
        }
        this.render();
    }

    /** A report of the model load (which pulls first when the chosen model is not downloaded yet). */
    setProgress(message: string | undefined, percentage?: number): void {
        if (this.phase !== 'pulling') {
            this.phase = 'loading';
        }
        this.progressMessage = withPercentage(message, percentage);
        this.render();
    }

    /** A report of a `codecomp/pullModel` (undefined: it ended); the model in use keeps answering. */
    setPull(message: string | undefined, percentage?: number): void {
        this.pullMessage = message === undefined ? undefined : withPercentage(message, percentage) || 'pulling';
        this.render();
    }

    setLatency(ms: number): void {
        this.lastLatencyMs = ms;
        this.render();
    }

    setStreaming(text: string | undefined): void {
        this.streamingText = text;
        this.render();
    }

    render(): void {
        const item = this.item;
        item.backgroundColor = undefined;
        const tooltip = new vscode.MarkdownString(undefined, true);
        // Only the pull command may run from the tooltip's links.
        tooltip.isTrusted = { enabledCommands: [PULL_COMMAND] };
        tooltip.appendMarkdown('**codecomp** — AI code completion\n\n');
        const s = this.stats;
        const fallback = s?.modelFallback === true;
        if (!this.enabled) {
            item.text = '$(circle-slash) codecomp: off';
            tooltip.appendMarkdown('Completions are off. Click to turn them on.\n\n');
        } else if (this.phase === 'starting') {
            item.text = '$(loading~spin) codecomp: starting';
            tooltip.appendMarkdown('Starting the language server…\n\n');
        } else if (this.phase === 'loading') {
            item.text = `$(loading~spin) codecomp: ${oneLine(this.progressMessage || 'loading model', 40)}`;
            tooltip.appendMarkdown('Loading the model…\n\n');
        } else if (this.phase === 'pulling') {
            item.text = `$(cloud-download) codecomp: ${oneLine(this.progressMessage || 'pulling model', 40)}`;
            tooltip.appendMarkdown(
                `Pulling the model (download, check, convert) before it loads${this.progressMessage ? `: ${this.progressMessage}` : ''}…\n\n`,
            );
        } else if (this.phase === 'failed') {
            item.text = '$(error) codecomp';
            item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
            tooltip.appendMarkdown(`Model failed: ${this.detail}\n\n`);
        } else if (this.phase === 'stopped') {
            item.text = '$(warning) codecomp: stopped';
            item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
            tooltip.appendMarkdown(`The server is not running${this.detail ? `: ${this.detail}` : ''}. Run "codecomp: Restart Server".\n\n`);
        } else if (this.streamingText !== undefined) {
            item.text = `$(sync~spin) codecomp: ${oneLine(this.streamingText, 30) || '…'}`;
        } else if (this.pullMessage !== undefined) {
            item.text = `$(cloud-download) codecomp: ${oneLine(this.pullMessage, 40)}`;
            tooltip.appendMarkdown(`Pulling a model: ${this.pullMessage}\n\n`);
        } else {
            const name = shortModel(s?.model);
            const parts = [fallback ? `${name} (fallback)` : name, s?.device ?? undefined];
            if (this.lastLatencyMs !== undefined) {
                parts.push(`${Math.round(this.lastLatencyMs)} ms`);
            }
            item.text = `${fallback ? '$(warning)' : '$(sparkle)'} codecomp: ${parts.filter(Boolean).join(' · ')}`;
            if (fallback) {
                item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
            }
        }
        if (s) {
            tooltip.appendMarkdown(`Model: \`${s.model ?? '?'}\` on \`${s.device ?? '?'}\` (${s.dtype ?? '?'}), state ${s.modelState ?? '?'}\n\n`);
            if (s.modelReason) {
                tooltip.appendMarkdown(`Why this model: ${s.modelReason}\n\n`);
            }
            if (fallback) {
                tooltip.appendMarkdown(
                    `$(warning) The small built-in fallback model answers: its suggestions are weak. [Pull a model](command:${PULL_COMMAND}) ("codecomp: Pull Model") for better ones.\n\n`,
                );
            }
            if (s.modelError && this.phase !== 'failed') {
                tooltip.appendMarkdown(`Model error: ${s.modelError}\n\n`);
            }
            const latency = s.latencyMs ?? {};
            for (const [feature, l] of Object.entries(latency)) {
                tooltip.appendMarkdown(`${feature}: p50 ${l.p50} ms, p95 ${l.p95} ms (${l.count})\n\n`);
            }
            tooltip.appendMarkdown(`Requests: ${s.requests ?? 0}\n\n`);
        }
        if (this.lastLatencyMs !== undefined) {
            tooltip.appendMarkdown(`Last completion: ${Math.round(this.lastLatencyMs)} ms\n\n`);
        }
        tooltip.appendMarkdown(this.enabled ? 'Click to turn completions off.' : '');
        item.tooltip = tooltip;
    }

    dispose(): void {
        this.item.dispose();
    }
}
