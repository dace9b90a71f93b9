// A small stand-in for the `vscode` module, enough for the bundled extension and vscode-languageclient
// to run under plain Node: real enum values, real-shaped classes, and recorders the tests read
// (messages shown, output channel text, executed commands, registered providers).
// install() hooks Module._load so `require('vscode')` returns it.
'use strict';

const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { URL, pathToFileURL, fileURLToPath } = require('node:url');

const missing = new Set();

/** Wrap a namespace so that reads of members we did not implement are recorded (and logged once). */
function watched(name, target) {
    const ignore = new Set(['then', 'toJSON', '__esModule', 'default', 'inspect', 'constructor', 'prototype', 'length', 'name']);
    return new Proxy(target, {
        get(obj, prop, receiver) {
            if (typeof prop === 'string' && !(prop in obj) && !ignore.has(prop) && !prop.startsWith('Symbol(')) {
                const key = name ? `${name}.${prop}` : prop;
                if (!missing.has(key)) {
                    missing.add(key);
                    if (process.env.CODECOMP_STUB_DEBUG) {
                        process.stderr.write(`[vscode-stub] not implemented: vscode.${key}\n`);
                    }
                }
            }
            return Reflect.get(obj, prop, receiver);
        },
    });
}

// ---------------------------------------------------------------------------------------- events
class Disposable {
    constructor(callOnDispose) {
        this._fn = callOnDispose;
    }
    static from(...items) {
        return new Disposable(() => items.forEach((d) => d && d.dispose && d.dispose()));
    }
    dispose() {
        if (this._fn) {
            const fn = this._fn;
            this._fn = undefined;
            fn();
        }
    }
}

class EventEmitter {
    constructor() {
        this._listeners = new Set();
        this.event = (listener, thisArgs, disposables) => {
            const entry = { listener, thisArgs };
            this._listeners.add(entry);
            const d = new Disposable(() => this._listeners.delete(entry));
            if (Array.isArray(disposables)) {
                disposables.push(d);
            }
            return d;
        };
    }
    fire(data) {
        for (const { listener, thisArgs } of [...this._listeners]) {
            try {
                listener.call(thisArgs, data);
            } catch (error) {
                process.stderr.write(`[vscode-stub] listener failed: ${error && error.stack}\n`);
            }
        }
    }
    dispose() {
        this._listeners.clear();
    }
}

class CancellationError extends Error {
    constructor() {
        super('Canceled');
        this.name = 'Canceled';
    }
}

class CancellationTokenSource {
    constructor() {
        this._emitter = new EventEmitter();
        const self = this;
        this.token = {
            isCancellationRequested: false,
            onCancellationRequested: (listener, thisArgs, disposables) => self._emitter.event(listener, thisArgs, disposables),
        };
    }
    cancel() {
        if (!this.token.isCancellationRequested) {
            this.token.isCancellationRequested = true;
            this._emitter.fire(undefined);
        }
    }
    dispose() {
        this._emitter.dispose();
    }
}

// -------------------------------------------------------------------------------------- geometry
class Position {
    constructor(line, character) {
        this.line = line;
        this.character = character;
    }
    isBefore(o) {
        return this.line < o.line || (this.line === o.line && this.character < o.character);
    }
    isBeforeOrEqual(o) {
        return this.isBefore(o) || this.isEqual(o);
    }
    isAfter(o) {
        return !this.isBeforeOrEqual(o);
    }
    isAfterOrEqual(o) {
        return !this.isBefore(o);
    }
    isEqual(o) {
        return this.line === o.line && this.character === o.character;
    }
    compareTo(o) {
        return this.isBefore(o) ? -1 : this.isEqual(o) ? 0 : 1;
    }
    translate(a = 0, b = 0) {
        if (typeof a === 'object') {
            return new Position(this.line + (a.lineDelta || 0), this.character + (a.characterDelta || 0));
        }
        return new Position(this.line + a, this.character + b);
    }
    with(a, b) {
        if (a && typeof a === 'object') {
            return new Position(a.line ?? this.line, a.character ?? this.character);
        }
        return new Position(a ?? this.line, b ?? this.character);
    }
}

class Range {
    constructor(a, b, c, d) {
        if (typeof a === 'number') {
            a = new Position(a, b);
            b = new Position(c, d);
        }
        if (b.isBefore(a)) {
            [a, b] = [b, a];
        }
        this.start = a;
        this.end = b;
    }
    get isEmpty() {
        return this.start.isEqual(this.end);
    }
    get isSingleLine() {
        return this.start.line === this.end.line;
    }
    contains(x) {
        if (x instanceof Range) {
            return this.contains(x.start) && this.contains(x.end);
        }
        return !x.isBefore(this.start) && !this.end.isBefore(x);
    }
    isEqual(o) {
        return this.start.isEqual(o.start) && this.end.isEqual(o.end);
    }
    with(a, b) {
        if (a && !(a instanceof Position)) {
            return new Range(a.start ?? this.start, a.end ?? this.end);
        }
        return new Range(a ?? this.start, b ?? this.end);
    }
}

class Selection extends Range {
    constructor(a, b, c, d) {
        if (typeof a === 'number') {
            a = new Position(a, b);
            b = new Position(c, d);
        }
        super(a, b);
        this.anchor = a;
        this.active = b;
    }
    get isReversed() {
        return this.active.isBefore(this.anchor);
    }
}

// ------------------------------------------------------------------------------------------- Uri
class Uri {
    constructor(scheme, authority, p, query, fragment) {
        this.scheme = scheme;
        this.authority = authority || '';
        this.path = p || '';
        this.query = query || '';
        this.fragment = fragment || '';
    }
    static file(p) {
        return new Uri('file', '', path.resolve(p).split(path.sep).join('/'));
    }
    static parse(value) {
        const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
        if (!m) {
            return new Uri('file', '', value);
        }
        return new Uri(m[1], m[2], decodeURIComponent(m[3]), m[4], m[5]);
    }
    static joinPath(base, ...parts) {
        return base.with({ path: path.posix.join(base.path, ...parts) });
    }
    static from(c) {
        return new Uri(c.scheme, c.authority, c.path, c.query, c.fragment);
    }
    get fsPath() {
        return this.scheme === 'file' ? fileURLToPath(this.toString()) : this.path;
    }
    with(change) {
        return new Uri(
            change.scheme ?? this.scheme,
            change.authority ?? this.authority,
            change.path ?? this.path,
            change.query ?? this.query,
            change.fragment ?? this.fragment,
        );
    }
    toString() {
        if (this.scheme === 'file') {
            return pathToFileURL(this.path).href;
        }
        const auth = this.authority ? `//${this.authority}` : '';
        return `${this.scheme}:${auth}${encodeURI(this.path)}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
    }
    toJSON() {
        return { scheme: this.scheme, authority: this.authority, path: this.path, query: this.query, fragment: this.fragment };
    }
}

// ----------------------------------------------------------------------------------------- enums
const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 };
const CompletionTriggerKind = { Invoke: 0, TriggerCharacter: 1, TriggerForIncompleteCompletions: 2 };
const CompletionItemKind = {
    Text: 0, Method: 1, Function: 2, Constructor: 3, Field: 4, Variable: 5, Class: 6, Interface: 7, Module: 8,
    Property: 9, Unit: 10, Value: 11, Enum: 12, Keyword: 13, Snippet: 14, Color: 15, File: 16, Reference: 17,
    Folder: 18, EnumMember: 19, Constant: 20, Struct: 21, Event: 22, Operator: 23, TypeParameter: 24, User: 25, Issue: 26,
};
const CompletionItemTag = { Deprecated: 1 };
const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 };
const DiagnosticTag = { Unnecessary: 1, Deprecated: 2 };
const SymbolKind = {
    File: 0, Module: 1, Namespace: 2, Package: 3, Class: 4, Method: 5, Property: 6, Field: 7, Constructor: 8, Enum: 9,
    Interface: 10, Function: 11, Variable: 12, Constant: 13, String: 14, Number: 15, Boolean: 16, Array: 17, Object: 18,
    Key: 19, Null: 20, EnumMember: 21, Struct: 22, Event: 23, Operator: 24, TypeParameter: 25,
};
const SymbolTag = { Deprecated: 1 };
const DocumentHighlightKind = { Text: 0, Read: 1, Write: 2 };
const TextDocumentSaveReason = { Manual: 1, AfterDelay: 2, FocusOut: 3 };
const SignatureHelpTriggerKind = { Invoke: 1, TriggerCharacter: 2, ContentChange: 3 };
const FoldingRangeKind = { Comment: 1, Imports: 2, Region: 3 };
const CodeActionTriggerKind = { Invoke: 1, Automatic: 2 };
const StatusBarAlignment = { Left: 1, Right: 2 };
const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };
const LogLevel = { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 };
const EndOfLine = { LF: 1, CRLF: 2 };
const ViewColumn = { Active: -1, Beside: -2, One: 1, Two: 2, Three: 3 };
const InlayHintKind = { Type: 1, Parameter: 2 };
const TextEditorRevealType = { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 };
const UIKind = { Desktop: 1, Web: 2 };

class CodeActionKind {
    constructor(value) {
        this.value = value;
    }
    append(part) {
        return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
    }
    intersects(other) {
        return this.contains(other) || other.contains(this);
    }
    contains(other) {
        return this.value === other.value || other.value.startsWith(`${this.value}.`);
    }
}
CodeActionKind.Empty = new CodeActionKind('');
CodeActionKind.QuickFix = new CodeActionKind('quickfix');
CodeActionKind.Refactor = new CodeActionKind('refactor');
CodeActionKind.RefactorExtract = new CodeActionKind('refactor.extract');
CodeActionKind.RefactorInline = new CodeActionKind('refactor.inline');
CodeActionKind.RefactorMove = new CodeActionKind('refactor.move');
CodeActionKind.RefactorRewrite = new CodeActionKind('refactor.rewrite');
CodeActionKind.Source = new CodeActionKind('source');
CodeActionKind.SourceOrganizeImports = new CodeActionKind('source.organizeImports');
CodeActionKind.SourceFixAll = new CodeActionKind('source.fixAll');
CodeActionKind.Notebook = new CodeActionKind('notebook');

// --------------------------------------------------------------------------------- value classes
class MarkdownString {
    constructor(value = '', supportThemeIcons = false) {
        this.value = value;
        this.supportThemeIcons = supportThemeIcons;
        this.isTrusted = undefined;
        this.supportHtml = false;
    }
    appendText(text) {
        this.value += text.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&');
        return this;
    }
    appendMarkdown(text) {
        this.value += text;
        return this;
    }
    appendCodeblock(code, language = '') {
        this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
        return this;
    }
}

class SnippetString {
    constructor(value = '') {
        this.value = value;
    }
    appendText(text) {
        this.value += text.replace(/[$}\\]/g, '\\$&');
        return this;
    }
    appendTabstop(n) {
        this.value += `$${n ?? 0}`;
        return this;
    }
    appendPlaceholder(text, n) {
        this.value += `\${${n ?? 1}:${text}}`;
        return this;
    }
    appendVariable(name, def) {
        this.value += def ? `\${${name}:${def}}` : `$${name}`;
        return this;
    }
}

class TextEdit {
    constructor(range, newText) {
        this.range = range;
        this.newText = newText;
    }
    static replace(range, newText) {
        return new TextEdit(range, newText);
    }
    static insert(position, newText) {
        return new TextEdit(new Range(position, position), newText);
    }
    static delete(range) {
        return new TextEdit(range, '');
    }
    static setEndOfLine(eol) {
        const edit = new TextEdit(new Range(0, 0, 0, 0), '');
        edit.newEol = eol;
        return edit;
    }
}

class SnippetTextEdit {
    constructor(range, snippet) {
        this.range = range;
        this.snippet = snippet;
    }
}

class WorkspaceEdit {
    constructor() {
        this._entries = [];
    }
    get size() {
        return this._entries.length;
    }
    replace(uri, range, newText) {
        this._entries.push([uri, [new TextEdit(range, newText)]]);
    }
    insert(uri, position, newText) {
        this.replace(uri, new Range(position, position), newText);
    }
    delete(uri, range) {
        this.replace(uri, range, '');
    }
    set(uri, edits) {
        this._entries.push([uri, edits || []]);
    }
    get(uri) {
        return this._entries.filter(([u]) => u.toString() === uri.toString()).flatMap(([, e]) => e);
    }
    has(uri) {
        return this.get(uri).length > 0;
    }
    entries() {
        return this._entries;
    }
    createFile(uri, options) {
        this._entries.push([uri, [], { create: options }]);
    }
    deleteFile(uri, options) {
        this._entries.push([uri, [], { delete: options }]);
    }
    renameFile(from, to, options) {
        this._entries.push([from, [], { rename: to, options }]);
    }
}

class CompletionItem {
    constructor(label, kind) {
        this.label = label;
        this.kind = kind;
    }
}

class CompletionList {
    constructor(items = [], isIncomplete = false) {
        this.items = items;
        this.isIncomplete = isIncomplete;
    }
}

class InlineCompletionItem {
    constructor(insertText, range, command) {
        this.insertText = insertText;
        this.range = range;
        this.command = command;
    }
}

class InlineCompletionList {
    constructor(items) {
        this.items = items;
    }
}

class Location {
    constructor(uri, rangeOrPosition) {
        this.uri = uri;
        this.range = rangeOrPosition instanceof Position ? new Range(rangeOrPosition, rangeOrPosition) : rangeOrPosition;
    }
}

class Diagnostic {
    constructor(range, message, severity = DiagnosticSeverity.Error) {
        this.range = range;
        this.message = message;
        this.severity = severity;
    }
}

class DiagnosticRelatedInformation {
    constructor(location, message) {
        this.location = location;
        this.message = message;
    }
}

class Hover {
    constructor(contents, range) {
        this.contents = Array.isArray(contents) ? contents : [contents];
        this.range = range;
    }
}

class CodeAction {
    constructor(title, kind) {
        this.title = title;
        this.kind = kind;
    }
}

class CodeLens {
    constructor(range, command) {
        this.range = range;
        this.command = command;
    }
    get isResolved() {
        return !!this.command;
    }
}

class DocumentLink {
    constructor(range, target) {
        this.range = range;
        this.target = target;
    }
}

class InlayHint {
    constructor(position, label, kind) {
        this.position = position;
        this.label = label;
        this.kind = kind;
    }
}

class SymbolInformation {
    constructor(name, kind, containerName, location) {
        this.name = name;
        this.kind = kind;
        this.containerName = containerName;
        this.location = location;
    }
}

class CallHierarchyItem {
    constructor(kind, name, detail, uri, range, selectionRange) {
        Object.assign(this, { kind, name, detail, uri, range, selectionRange });
    }
}

class TypeHierarchyItem {
    constructor(kind, name, detail, uri, range, selectionRange) {
        Object.assign(this, { kind, name, detail, uri, range, selectionRange });
    }
}

class ThemeColor {
    constructor(id) {
        this.id = id;
    }
}

class ThemeIcon {
    constructor(id, color) {
        this.id = id;
        this.color = color;
    }
}
ThemeIcon.File = new ThemeIcon('file');
ThemeIcon.Folder = new ThemeIcon('folder');

class RelativePattern {
    constructor(base, pattern) {
        this.baseUri = typeof base === 'string' ? Uri.file(base) : base.uri || base;
        this.base = this.baseUri.fsPath;
        this.pattern = pattern;
    }
}

class TabInputText {
    constructor(uri) {
        this.uri = uri;
    }
}
class TabInputTextDiff {
    constructor(original, modified) {
        this.original = original;
        this.modified = modified;
    }
}
class TabInputCustom {
    constructor(uri, viewType) {
        this.uri = uri;
        this.viewType = viewType;
    }
}
class TabInputNotebook {
    constructor(uri, notebookType) {
        this.uri = uri;
        this.notebookType = notebookType;
    }
}

// ------------------------------------------------------------------------------------- documents
class TextLine {
    constructor(lineNumber, text, hasNewline) {
        this.lineNumber = lineNumber;
        this.text = text;
        this.range = new Range(lineNumber, 0, lineNumber, text.length);
        this.rangeIncludingLineBreak = hasNewline ? new Range(lineNumber, 0, lineNumber + 1, 0) : this.range;
        this.firstNonWhitespaceCharacterIndex = /^\s*/.exec(text)[0].length;
        this.isEmptyOrWhitespace = this.firstNonWhitespaceCharacterIndex === text.length;
    }
}

/** A text document: VS Code positions count UTF-16 code units, as JS strings do. */
class TextDocument {
    constructor(uri, languageId, text, version = 1) {
        this.uri = uri;
        this.languageId = languageId;
        this.version = version;
        this.isUntitled = uri.scheme === 'untitled';
        this.isDirty = false;
        this.isClosed = false;
        this.encoding = 'utf8';
        this._setText(text);
    }
    get fileName() {
        return this.uri.fsPath;
    }
    get eol() {
        return this._text.includes('\r\n') ? EndOfLine.CRLF : EndOfLine.LF;
    }
    get lineCount() {
        return this._lineStarts.length;
    }
    _setText(text) {
        this._text = text;
        this._lineStarts = [0];
        for (let i = 0; i < text.length; i++) {
            if (text[i] === '\n') {
                this._lineStarts.push(i + 1);
            }
        }
    }
    getText(range) {
        if (!range) {
            return this._text;
        }
        return this._text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
    }
    lineAt(lineOrPosition) {
        const line = typeof lineOrPosition === 'number' ? lineOrPosition : lineOrPosition.line;
        if (line < 0 || line >= this.lineCount) {
            throw new Error(`Illegal value for line: ${line}`);
        }
        const start = this._lineStarts[line];
        const hasNewline = line + 1 < this.lineCount;
        let end = hasNewline ? this._lineStarts[line + 1] - 1 : this._text.length;
        if (hasNewline && this._text[end - 1] === '\r') {
            end -= 1;
        }
        return new TextLine(line, this._text.slice(start, end), hasNewline);
    }
    offsetAt(position) {
        const p = this.validatePosition(position);
        return this._lineStarts[p.line] + p.character;
    }
    positionAt(offset) {
        offset = Math.max(0, Math.min(offset, this._text.length));
        let line = 0;
        while (line + 1 < this._lineStarts.length && this._lineStarts[line + 1] <= offset) {
            line++;
        }
        return new Position(line, offset - this._lineStarts[line]);
    }
    validatePosition(position) {
        const line = Math.max(0, Math.min(position.line, this.lineCount - 1));
        const length = this.lineAt(line).text.length;
        return new Position(line, Math.max(0, Math.min(position.character, length)));
    }
    validateRange(range) {
        return new Range(this.validatePosition(range.start), this.validatePosition(range.end));
    }
    getWordRangeAtPosition(position, regex = /[A-Za-z_0-9]+/g) {
        const text = this.lineAt(position.line).text;
        const re = new RegExp(regex.source, regex.flags.includes('g') ? regex.flags : `${regex.flags}g`);
        let m;
        while ((m = re.exec(text)) !== null) {
            if (m.index <= position.character && position.character <= m.index + m[0].length) {
                return new Range(position.line, m.index, position.line, m.index + m[0].length);
            }
            if (m[0].length === 0) {
                re.lastIndex++;
            }
        }
        return undefined;
    }
    save() {
        return Promise.resolve(true);
    }
}

// ------------------------------------------------------------------------------------- recorders
const messages = []; // {level, message, items}
const outputChannels = new Map(); // name → channel
const executedCommands = []; // {id, args}
const commands = new Map();
const providers = []; // {kind, selector, provider, extra}
const statusBarItems = [];
const progress = []; // {title, location, reports, done}
const quickPickAnswers = []; // (items, options) => the picked item; one per showQuickPick, in order

function makeOutputChannel(name, options) {
    const log = options && typeof options === 'object' && options.log === true;
    const levelEmitter = new EventEmitter();
    const lines = [];
    const channel = {
        name,
        lines,
        logLevel: LogLevel.Info,
        onDidChangeLogLevel: levelEmitter.event,
        get text() {
            return lines.join('');
        },
        append(value) {
            lines.push(String(value));
        },
        appendLine(value) {
            lines.push(`${value}\n`);
        },
        replace(value) {
            lines.length = 0;
            lines.push(String(value));
        },
        clear() {
            lines.length = 0;
        },
        show() {
            channel.shown = true;
        },
        hide() {
            channel.shown = false;
        },
        dispose() {
            channel.disposed = true;
            levelEmitter.dispose();
        },
    };
    if (log) {
        for (const level of ['trace', 'debug', 'info', 'warn', 'error']) {
            channel[level] = (message, ...args) => {
                const text = message instanceof Error ? message.stack : String(message);
                lines.push(`[${level}] ${text}${args.length ? ` ${args.map((a) => (a instanceof Error ? a.stack : JSON.stringify(a))).join(' ')}` : ''}\n`);
            };
        }
    }
    outputChannels.set(name, channel);
    return channel;
}

function showMessage(level) {
    return (message, ...rest) => {
        const items = rest.filter((r) => typeof r === 'string' || (r && typeof r === 'object' && 'title' in r));
        messages.push({ level, message, items });
        if (process.env.CODECOMP_STUB_DEBUG) {
            process.stderr.write(`[vscode-stub] ${level} message: ${message}\n`);
        }
        return Promise.resolve(undefined);
    };
}

// --------------------------------------------------------------------------------- configuration
const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
const configDefaults = {};
for (const [key, schema] of Object.entries(packageJson.contributes.configuration.properties)) {
    configDefaults[key] = schema.default;
}
const userValues = {}; // full key ("codecomp.maxNewTokens") → value
const configEmitter = new EventEmitter();

function configValue(fullKey) {
    if (Object.prototype.hasOwnProperty.call(userValues, fullKey)) {
        return clone(userValues[fullKey]);
    }
    if (Object.prototype.hasOwnProperty.call(configDefaults, fullKey)) {
        return clone(configDefaults[fullKey]);
    }
    // A section: build the object of every key under it ("codecomp" → {model, trace: {server}}).
    const prefix = `${fullKey}.`;
    const keys = new Set([...Object.keys(configDefaults), ...Object.keys(userValues)].filter((k) => k.startsWith(prefix)));
    if (keys.size === 0) {
        return undefined;
    }
    const out = {};
    for (const k of keys) {
        const parts = k.slice(prefix.length).split('.');
        let node = out;
        for (const part of parts.slice(0, -1)) {
            node = node[part] = node[part] || {};
        }
        node[parts[parts.length - 1]] = configValue(k);
    }
    return out;
}

function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function getConfiguration(section) {
    const full = (key) => (section ? `${section}.${key}` : key);
    const config = {
        get(key, defaultValue) {
            const value = configValue(full(key));
            return value === undefined ? defaultValue : value;
        },
        has(key) {
            return configValue(full(key)) !== undefined;
        },
        inspect(key) {
            const k = full(key);
            return {
                key: k,
                defaultValue: configDefaults[k],
                globalValue: userValues[k],
                workspaceValue: undefined,
                workspaceFolderValue: undefined,
            };
        },
        update(key, value) {
            return setConfiguration(full(key), value);
        },
    };
    // Like VS Code, the object also carries the section's values as properties.
    const values = section ? configValue(section) : undefined;
    if (values && typeof values === 'object') {
        for (const [k, v] of Object.entries(values)) {
            if (!(k in config)) {
                config[k] = v;
            }
        }
    }
    return config;
}

/** Set (or with undefined: reset) a setting and fire onDidChangeConfiguration, as a user edit would. */
function setConfiguration(fullKey, value) {
    if (value === undefined) {
        delete userValues[fullKey];
    } else {
        userValues[fullKey] = clone(value);
    }
    configEmitter.fire({
        affectsConfiguration: (section) => fullKey === section || fullKey.startsWith(`${section}.`) || section.startsWith(`${fullKey}.`),
    });
    return Promise.resolve();
}

// ---------------------------------------------------------------------------- workspace / window
const openEmitter = new EventEmitter();
const closeEmitter = new EventEmitter();
const changeEmitter = new EventEmitter();
const saveEmitter = new EventEmitter();
const willSaveEmitter = new EventEmitter();
const activeEditorEmitter = new EventEmitter();
const visibleEditorsEmitter = new EventEmitter();
const selectionEmitter = new EventEmitter();
const textDocuments = [];
const nullEvent = new EventEmitter().event;

const window = {
    activeTextEditor: undefined,
    visibleTextEditors: [],
    onDidChangeActiveTextEditor: activeEditorEmitter.event,
    onDidChangeVisibleTextEditors: visibleEditorsEmitter.event,
    onDidChangeTextEditorSelection: selectionEmitter.event,
    onDidChangeTextEditorVisibleRanges: nullEvent,
    onDidChangeWindowState: nullEvent,
    onDidChangeActiveColorTheme: nullEvent,
    onDidOpenTerminal: nullEvent,
    onDidCloseTerminal: nullEvent,
    activeNotebookEditor: undefined,
    visibleNotebookEditors: [],
    onDidChangeActiveNotebookEditor: nullEvent,
    onDidChangeVisibleNotebookEditors: nullEvent,
    state: { focused: true, active: true },
    tabGroups: watched('window.tabGroups', {
        all: [],
        activeTabGroup: { tabs: [], isActive: true, viewColumn: 1 },
        onDidChangeTabs: nullEvent,
        onDidChangeTabGroups: nullEvent,
    }),
    showInformationMessage: showMessage('info'),
    showWarningMessage: showMessage('warning'),
    showErrorMessage: showMessage('error'),
    // Answered by the next function in quickPickAnswers ((items, options) => the item to pick), else dismissed.
    showQuickPick: async (items, options) => {
        const list = await items;
        messages.push({ level: 'quickPick', message: (options && (options.title || options.placeHolder)) || '', items: list, options });
        const answer = quickPickAnswers.shift();
        return answer ? answer(list, options) : undefined;
    },
    showInputBox: () => Promise.resolve(undefined),
    showTextDocument: (doc) => Promise.resolve(setActiveEditor(doc)),
    createOutputChannel: makeOutputChannel,
    createStatusBarItem(idOrAlignment, alignmentOrPriority, maybePriority) {
        const id = typeof idOrAlignment === 'string' ? idOrAlignment : undefined;
        const item = {
            id,
            alignment: id ? alignmentOrPriority : idOrAlignment,
            priority: id ? maybePriority : alignmentOrPriority,
            text: '',
            tooltip: undefined,
            command: undefined,
            name: undefined,
            backgroundColor: undefined,
            visible: false,
            history: [],
            show() {
                item.visible = true;
            },
            hide() {
                item.visible = false;
            },
            dispose() {
                item.disposed = true;
            },
        };
        // Keep every text the item showed, so tests can see transient states (loading, streaming).
        let text = '';
        Object.defineProperty(item, 'text', {
            get: () => text,
            set: (value) => {
                text = value;
                if (item.history[item.history.length - 1] !== value) {
                    item.history.push(value);
                }
            },
            enumerable: true,
        });
        statusBarItems.push(item);
        return item;
    },
    createTextEditorDecorationType: () => ({ key: 'decoration', dispose() {} }),
    withProgress(options, task) {
        const record = { title: options.title, location: options.location, reports: [] };
        progress.push(record);
        const source = new CancellationTokenSource();
        return Promise.resolve(task({ report: (value) => record.reports.push(value) }, source.token)).finally(() => {
            record.done = true;
        });
    },
};

function setActiveEditor(document, selection) {
    const sel = selection || new Selection(0, 0, 0, 0);
    const editor = {
        document,
        selection: sel,
        selections: [sel],
        visibleRanges: [new Range(0, 0, document.lineCount, 0)],
        options: { tabSize: 4, insertSpaces: true },
        viewColumn: ViewColumn.One,
        edit: () => Promise.resolve(true),
        revealRange() {},
        setDecorations() {},
    };
    window.activeTextEditor = editor;
    window.visibleTextEditors = [editor];
    activeEditorEmitter.fire(editor);
    visibleEditorsEmitter.fire(window.visibleTextEditors);
    return editor;
}

const workspace = {
    workspaceFolders: undefined,
    name: undefined,
    rootPath: undefined,
    workspaceFile: undefined,
    textDocuments,
    notebookDocuments: [],
    isTrusted: true,
    onDidChangeWorkspaceFolders: nullEvent,
    onDidOpenTextDocument: openEmitter.event,
    onDidCloseTextDocument: closeEmitter.event,
    onDidChangeTextDocument: changeEmitter.event,
    onDidSaveTextDocument: saveEmitter.event,
    onWillSaveTextDocument: willSaveEmitter.event,
    onDidOpenNotebookDocument: nullEvent,
    onDidCloseNotebookDocument: nullEvent,
    onDidChangeNotebookDocument: nullEvent,
    onDidSaveNotebookDocument: nullEvent,
    onDidCreateFiles: nullEvent,
    onDidDeleteFiles: nullEvent,
    onDidRenameFiles: nullEvent,
    onWillCreateFiles: nullEvent,
    onWillDeleteFiles: nullEvent,
    onWillRenameFiles: nullEvent,
    onDidGrantWorkspaceTrust: nullEvent,
    onDidChangeConfiguration: configEmitter.event,
    getConfiguration,
    getWorkspaceFolder: () => undefined,
    asRelativePath: (pathOrUri) => (typeof pathOrUri === 'string' ? pathOrUri : pathOrUri.fsPath),
    applyEdit: (edit) => {
        messages.push({ level: 'applyEdit', message: '', items: [edit] });
        applyWorkspaceEdit(edit);
        return Promise.resolve(true);
    },
    createFileSystemWatcher: () => ({
        onDidCreate: nullEvent,
        onDidChange: nullEvent,
        onDidDelete: nullEvent,
        ignoreCreateEvents: false,
        ignoreChangeEvents: false,
        ignoreDeleteEvents: false,
        dispose() {},
    }),
    openTextDocument: (uriOrOptions) => {
        const uri = uriOrOptions instanceof Uri ? uriOrOptions : Uri.file(String(uriOrOptions));
        const existing = textDocuments.find((d) => d.uri.toString() === uri.toString());
        return Promise.resolve(existing || openDocument(uri.fsPath, 'plaintext', fs.readFileSync(uri.fsPath, 'utf8')));
    },
    registerTextDocumentContentProvider: () => new Disposable(() => {}),
    fs: {},
};

/** Open a document as VS Code would: it joins workspace.textDocuments and onDidOpenTextDocument fires. */
function openDocument(filePath, languageId, text) {
    const document = new TextDocument(Uri.file(filePath), languageId, text, 1);
    textDocuments.push(document);
    openEmitter.fire(document);
    return document;
}

/**
 * Apply a WorkspaceEdit as VS Code does: files it creates are created (never over an existing one
 * unless overwrite is set), text edits go to the open document (else to the file on disk), last
 * edit first so that earlier ranges stay valid.
 */
function applyWorkspaceEdit(edit) {
    for (const [uri, edits, operation] of edit.entries()) {
        if (operation && operation.create) {
            const options = operation.create || {};
            if (!fs.existsSync(uri.fsPath) || options.overwrite) {
                fs.mkdirSync(path.dirname(uri.fsPath), { recursive: true });
                fs.writeFileSync(uri.fsPath, '');
            }
            continue;
        }
        if (!edits || edits.length === 0) {
            continue;
        }
        const document = textDocuments.find((d) => d.uri.toString() === uri.toString());
        const target = document || new TextDocument(uri, 'plaintext', fs.readFileSync(uri.fsPath, 'utf8'), 1);
        // set(uri, edits) takes TextEdits or [TextEdit, metadata] pairs, as the real API does.
        const plain = edits.map((e) => (Array.isArray(e) ? e[0] : e));
        const ordered = plain.sort((a, b) => target.offsetAt(b.range.start) - target.offsetAt(a.range.start));
        for (const one of ordered) {
            if (document) {
                editDocument(document, one.range, one.newText);
            } else {
                const text = target.getText();
                const start = target.offsetAt(one.range.start);
                const end = target.offsetAt(one.range.end);
                target._setText(text.slice(0, start) + one.newText + text.slice(end));
            }
        }
        if (!document) {
            fs.writeFileSync(uri.fsPath, target.getText());
        }
    }
}

/** Apply one edit to a document (bumping its version) and fire onDidChangeTextDocument. */
function editDocument(document, range, newText) {
    const rangeOffset = document.offsetAt(range.start);
    const rangeLength = document.offsetAt(range.end) - rangeOffset;
    const text = document.getText();
    document._setText(text.slice(0, rangeOffset) + newText + text.slice(rangeOffset + rangeLength));
    document.version += 1;
    changeEmitter.fire({
        document,
        contentChanges: [{ range, rangeOffset, rangeLength, text: newText }],
        reason: undefined,
    });
}

function closeDocument(document) {
    const i = textDocuments.indexOf(document);
    if (i >= 0) {
        textDocuments.splice(i, 1);
    }
    document.isClosed = true;
    closeEmitter.fire(document);
}

// ------------------------------------------------------------------------------------- languages
function matchScore(selector, document) {
    if (Array.isArray(selector)) {
        return Math.max(0, ...selector.map((s) => matchScore(s, document)));
    }
    if (typeof selector === 'string') {
        return selector === '*' || selector === document.languageId ? 10 : 0;
    }
    if (!selector || typeof selector !== 'object') {
        return 0;
    }
    if (selector.notebookType) {
        return 0;
    }
    let score = 0;
    if (selector.language) {
        if (selector.language !== document.languageId && selector.language !== '*') {
            return 0;
        }
        score = 10;
    }
    if (selector.scheme) {
        if (selector.scheme !== document.uri.scheme && selector.scheme !== '*') {
            return 0;
        }
        score = Math.max(score, 10);
    }
    if (selector.pattern) {
        const pattern = typeof selector.pattern === 'string' ? selector.pattern : selector.pattern.pattern;
        if (pattern !== '**' && pattern !== '**/*' && !document.uri.fsPath.endsWith(pattern.replace(/^\*\*\/\*/, ''))) {
            return 0;
        }
        score = Math.max(score, 5);
    }
    return score;
}

function registerProvider(kind) {
    return (selector, provider, ...extra) => {
        const entry = { kind, selector, provider, extra };
        providers.push(entry);
        return new Disposable(() => {
            const i = providers.indexOf(entry);
            if (i >= 0) {
                providers.splice(i, 1);
            }
        });
    };
}

const languages = {
    match: matchScore,
    getLanguages: () => Promise.resolve(['python', 'javascript', 'typescript', 'plaintext']),
    onDidChangeDiagnostics: nullEvent,
    createDiagnosticCollection: (name) => {
        const map = new Map();
        return {
            name,
            set: (uri, diags) => (uri instanceof Uri ? map.set(uri.toString(), diags) : undefined),
            delete: (uri) => map.delete(uri.toString()),
            clear: () => map.clear(),
            get: (uri) => map.get(uri.toString()),
            has: (uri) => map.has(uri.toString()),
            forEach: () => {},
            dispose: () => map.clear(),
        };
    },
};
for (const kind of [
    'InlineCompletionItemProvider', 'CompletionItemProvider', 'HoverProvider', 'CodeActionsProvider',
    'SignatureHelpProvider', 'DefinitionProvider', 'ReferenceProvider', 'DocumentHighlightProvider',
    'DocumentSymbolProvider', 'WorkspaceSymbolProvider', 'CodeLensProvider', 'DocumentFormattingEditProvider',
    'DocumentRangeFormattingEditProvider', 'OnTypeFormattingEditProvider', 'RenameProvider', 'DocumentLinkProvider',
    'ColorProvider', 'FoldingRangeProvider', 'DeclarationProvider', 'ImplementationProvider', 'TypeDefinitionProvider',
    'SelectionRangeProvider', 'CallHierarchyProvider', 'TypeHierarchyProvider', 'LinkedEditingRangeProvider',
    'DocumentSemanticTokensProvider', 'DocumentRangeSemanticTokensProvider', 'InlayHintsProvider', 'InlineValuesProvider',
]) {
    languages[`register${kind}`] = registerProvider(kind);
}

const commandsApi = {
    registerCommand(id, callback, thisArg) {
        if (commands.has(id)) {
            throw new Error(`command '${id}' already exists`);
        }
        commands.set(id, callback.bind(thisArg));
        return new Disposable(() => commands.delete(id));
    },
    registerTextEditorCommand(id, callback) {
        return commandsApi.registerCommand(id, (...args) => callback(window.activeTextEditor, undefined, ...args));
    },
    async executeCommand(id, ...args) {
        executedCommands.push({ id, args });
        const command = commands.get(id);
        return command ? command(...args) : undefined;
    },
    getCommands: () => Promise.resolve([...commands.keys()]),
};

const env = {
    appName: 'Visual Studio Code (stub)',
    appRoot: __dirname,
    appHost: 'desktop',
    uriScheme: 'vscode',
    language: 'en',
    machineId: 'stub-machine',
    sessionId: 'stub-session',
    remoteName: undefined,
    shell: '/bin/sh',
    uiKind: UIKind.Desktop,
    isTelemetryEnabled: false,
    onDidChangeTelemetryEnabled: nullEvent,
    logLevel: LogLevel.Info,
    onDidChangeLogLevel: nullEvent,
    clipboard: { readText: () => Promise.resolve(''), writeText: () => Promise.resolve() },
    openExternal: () => Promise.resolve(true),
};

const vscode = {
    __esModule: true,
    version: '1.91.0',
    Disposable,
    EventEmitter,
    CancellationError,
    CancellationTokenSource,
    Position,
    Range,
    Selection,
    Uri,
    InlineCompletionTriggerKind,
    CompletionTriggerKind,
    CompletionItemKind,
    CompletionItemTag,
    DiagnosticSeverity,
    DiagnosticTag,
    SymbolKind,
    SymbolTag,
    DocumentHighlightKind,
    TextDocumentSaveReason,
    SignatureHelpTriggerKind,
    FoldingRangeKind,
    CodeActionTriggerKind,
    CodeActionKind,
    StatusBarAlignment,
    ProgressLocation,
    ConfigurationTarget,
    LogLevel,
    EndOfLine,
    ViewColumn,
    InlayHintKind,
    TextEditorRevealType,
    UIKind,
    MarkdownString,
    SnippetString,
    TextEdit,
    SnippetTextEdit,
    WorkspaceEdit,
    CompletionItem,
    CompletionList,
    InlineCompletionItem,
    InlineCompletionList,
    Location,
    Diagnostic,
    DiagnosticRelatedInformation,
    Hover,
    CodeAction,
    CodeLens,
    DocumentLink,
    InlayHint,
    SymbolInformation,
    CallHierarchyItem,
    TypeHierarchyItem,
    ThemeColor,
    ThemeIcon,
    RelativePattern,
    TabInputText,
    TabInputTextDiff,
    TabInputCustom,
    TabInputNotebook,
    window: watched('window', window),
    workspace: watched('workspace', workspace),
    languages: watched('languages', languages),
    commands: watched('commands', commandsApi),
    env: watched('env', env),
    extensions: watched('extensions', { all: [], getExtension: () => undefined, onDidChange: nullEvent }),
    l10n: { t: (message, ...args) => (typeof message === 'string' ? message.replace(/\{(\d+)\}/g, (_, i) => String(args[i])) : message.message) },
};

const stub = watched('', vscode);

let installed = false;
function install() {
    if (installed) {
        return stub;
    }
    installed = true;
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
        if (request === 'vscode') {
            return stub;
        }
        return load.call(this, request, parent, isMain);
    };
    return stub;
}

/** A minimal ExtensionContext. */
function extensionContext(storageDir) {
    const memento = () => {
        const values = new Map();
        return {
            get: (k, d) => (values.has(k) ? values.get(k) : d),
            update: (k, v) => Promise.resolve(void values.set(k, v)),
            keys: () => [...values.keys()],
            setKeysForSync() {},
        };
    };
    const root = path.join(__dirname, '..');
    return {
        subscriptions: [],
        extensionPath: root,
        extensionUri: Uri.file(root),
        storagePath: storageDir,
        globalStoragePath: storageDir,
        logPath: storageDir,
        storageUri: Uri.file(storageDir),
        globalStorageUri: Uri.file(storageDir),
        logUri: Uri.file(storageDir),
        extensionMode: 3, // Test
        workspaceState: memento(),
        globalState: memento(),
        secrets: { get: () => Promise.resolve(undefined), store: () => Promise.resolve(), delete: () => Promise.resolve(), onDidChange: nullEvent },
        environmentVariableCollection: { replace() {}, append() {}, prepend() {}, get() {}, forEach() {}, delete() {}, clear() {} },
        asAbsolutePath: (p) => path.join(root, p),
    };
}

module.exports = {
    install,
    vscode: stub,
    missing,
    messages,
    outputChannels,
    executedCommands,
    commands,
    providers,
    statusBarItems,
    progress,
    quickPickAnswers,
    userValues,
    setConfiguration,
    openDocument,
    editDocument,
    closeDocument,
    setActiveEditor,
    extensionContext,
    TextDocument,
    URL,
};
