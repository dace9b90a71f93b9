// The status bar item: on/off, server and model state, loading progress, model/device, latency.
import * as vscode from 'vscode';

export type Phase = 'starting' | 'loading' | 'ready' | 'failed' | 'stopped';

export interface StatsSnapshot {
    requests?: number;
    model?: string | null;
    device?: string | null;
    dtype?: string | null;
    modelState?: string;
    modelError?: string | null;
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
        if (phase !== 'loading') {
            this.progressMessage = '';
        }
        this.render();
    }

    setStats(stats: StatsSnapshot): void {
        this.stats = stats;
        const state = stats.modelState;
        if (state === 'loading' || state === 'idle') {
            this.phase = 'loading';
        } else if (state === 'failed') {
            this.phase = 'failed';
            this.detail = stats.modelError ?? 'model failed to load';
        } else if (state === 'ready') {
            this.phase = 'ready';
            this.detail = '';
        }
        this.render();
    }

    setProgress(message: string | undefined, percentage?: number): void {
        this.phase = 'loading';
        this.progressMessage = [message, percentage !== undefined ? `${percentage}%` : undefined]
            .filter(Boolean)
            .join(' ');
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
        tooltip.appendMarkdown('**codecomp** — AI code completion\n\n');
        if (!this.enabled) {
            item.text = '$(circle-slash) codecomp: off';
            tooltip.appendMarkdown('Completions are off. Click to turn them on.\n\n');
        } else if (this.phase === 'starting') {
            item.text = '$(loading~spin) codecomp: starting';
            tooltip.appendMarkdown('Starting the language server…\n\n');
        } else if (this.phase === 'loading') {
            item.text = `$(loading~spin) codecomp: ${oneLine(this.progressMessage || 'loading model', 40)}`;
            tooltip.appendMarkdown('Loading the model…\n\n');
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
        } else {
            const parts = [shortModel(this.stats?.model), this.stats?.device ?? undefined];
            if (this.lastLatencyMs !== undefined) {
                parts.push(`${Math.round(this.lastLatencyMs)} ms`);
            }
            item.text = `$(sparkle) codecomp: ${parts.filter(Boolean).join(' · ')}`;
        }
        const s = this.stats;
        if (s) {
            tooltip.appendMarkdown(`Model: \`${s.model ?? '?'}\` on \`${s.device ?? '?'}\` (${s.dtype ?? '?'}), state ${s.modelState ?? '?'}\n\n`);
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
