"""The reference check: names a suggestion uses that nothing the model saw defines.

A name is known when it appears anywhere in the document (its imports and definitions among
them), in another open document, among the language's builtins and keywords, or is defined by the
suggestion itself (an assignment, a parameter, a loop variable, an import). A name after `.` is an
attribute and is never checked: what a module or an object holds is not in our symbol tables.
Anything else is a name the model made up — or one it knows from training, which the check
cannot tell apart, so it only ranks and, for a lone automatic suggestion made of nothing but such
names, holds it back. Only languages whose builtins are listed here are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from codecomp_lsp.context.names import JS_RESERVED, PY_BUILTINS

_WORD = re.compile(r"[A-Za-z_$][\w$]*")
# String literals and comments, removed before names are read (a rough, line-level scan).
_PY_NOISE = re.compile(
    r"""#[^\n]*|'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*\"""", re.S
)
_JS_NOISE = re.compile(
    r"""//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`""", re.S
)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_JS_KEYWORDS = JS_RESERVED | _names(
    """get set from as NaN Infinity implements interface package private protected public
    type readonly declare namespace module abstract keyof infer is satisfies never unknown any
    string number boolean symbol bigint object"""
)
_JS_GLOBALS = _names(
    """globalThis window document console Math JSON Object Array String Number Boolean Symbol
    BigInt Date RegExp Error TypeError RangeError SyntaxError ReferenceError Map Set WeakMap
    WeakSet Promise Proxy Reflect Intl ArrayBuffer DataView Int8Array Uint8Array Int16Array
    Uint16Array Int32Array Uint32Array Float32Array Float64Array Uint8ClampedArray BigInt64Array
    BigUint64Array parseInt parseFloat isNaN isFinite encodeURIComponent decodeURIComponent
    encodeURI decodeURI setTimeout clearTimeout setInterval clearInterval queueMicrotask
    structuredClone fetch require module exports process Buffer __dirname __filename
    Record Partial Required Readonly Pick Omit Exclude Extract NonNullable ReturnType Parameters
    Awaited Iterable Iterator AsyncIterable PromiseLike ArrayLike"""
)
_KNOWN_BY_LANGUAGE = {
    "python": PY_BUILTINS,
    "javascript": _JS_KEYWORDS | _JS_GLOBALS,
    "typescript": _JS_KEYWORDS | _JS_GLOBALS,
    "tsx": _JS_KEYWORDS | _JS_GLOBALS,
}
# A name that the suggestion itself defines: these forms bind the name right after them (or the
# names in their list). Rough on purpose — a missed definition only makes a name look unknown.
_PY_BINDERS = re.compile(
    r"\b(?:def|class|as|import|global|nonlocal)\s+([A-Za-z_][\w, \t]*)|\bfor\s+(.+?)\s+in\b"
)
_PY_TARGET = re.compile(r"(?m)^\s*([A-Za-z_][\w, \t]*?)\s*(?::[^=\n]+)?(?<![=!<>])=(?!=)")
_PY_PARAMS = re.compile(r"\bdef\s+\w+\s*\(([^)]*)\)|\blambda\b([^:]*):")
_JS_BINDERS = re.compile(r"\b(?:const|let|var|function|class|as|of|in)\s+([A-Za-z_$][\w$]*)")
_JS_ARROW = re.compile(r"\(([^()]*)\)\s*(?::[^=]+)?=>|([A-Za-z_$][\w$]*)\s*=>")
_JS_TARGET = re.compile(r"(?m)^\s*([A-Za-z_$][\w$]*)\s*(?<![=!<>])=(?![=>])")
_KWARG = re.compile(r"[(,]\s*([A-Za-z_]\w*)\s*=(?!=)")  # f(name=…): a keyword, not a reference
_JS_KEY = re.compile(r"[{,]\s*([A-Za-z_$][\w$]*)\s*:")  # {name: …}: a property key


def checks(language: str | None) -> bool:
    """Whether names are checked in this language (its builtins are listed here)."""
    return language in _KNOWN_BY_LANGUAGE


def known_names(texts: Iterable[str], language: str | None) -> frozenset[str]:
    """The names a suggestion may use in `language`: every word of `texts` (the document, the
    other open documents) and the language's builtins and keywords."""
    words: set[str] = set(_KNOWN_BY_LANGUAGE.get(language or "", ()))
    for text in texts:
        words.update(_WORD.findall(text))
    return frozenset(words)


def _words(group: str | None) -> set[str]:
    return set(_WORD.findall(group or ""))


def defined_names(text: str, language: str | None) -> set[str]:
    """The names `text` binds (assignment targets, loop variables, parameters, definitions,
    imports), read roughly from the text; nothing in a language without a builtins list."""
    if not checks(language):
        return set()
    python = language == "python"
    return _defined((_PY_NOISE if python else _JS_NOISE).sub(" ", text), python)


def _defined(code: str, python: bool) -> set[str]:
    out: set[str] = set()
    if python:
        for match in _PY_BINDERS.finditer(code):
            out |= _words(match.group(1)) | _words(match.group(2))
        for match in _PY_TARGET.finditer(code):
            out |= _words(match.group(1))
        for match in _PY_PARAMS.finditer(code):
            params = match.group(1) or match.group(2) or ""
            out |= {p.split("=")[0].split(":")[0].strip(" *") for p in params.split(",")}
        out |= _words(":=".join(m.group(1) for m in re.finditer(r"(\w+)\s*:=", code)))
    else:
        for match in _JS_BINDERS.finditer(code):
            out |= _words(match.group(1))
        for match in _JS_ARROW.finditer(code):
            out |= _words(match.group(1)) | _words(match.group(2))
        for match in _JS_TARGET.finditer(code):
            out |= _words(match.group(1))
        out |= _words(" ".join(m.group(1) for m in _JS_KEY.finditer(code)))
    return out


def unknown_names(text: str, known: frozenset[str], language: str | None) -> tuple[list[str], int]:
    """(the names `text` uses that `known` lacks, how many names it uses), in order of use.
    Nothing is checked (([], 0)) in a language without a builtins list."""
    if not checks(language):
        return [], 0
    python = language == "python"
    code = (_PY_NOISE if python else _JS_NOISE).sub(" ", text)
    local = _defined(code, python) | (_words(" ".join(_KWARG.findall(code))) if python else set())
    used: list[str] = []
    unknown: list[str] = []
    for match in _WORD.finditer(code):
        name = match.group()
        j = match.start() - 1
        while j >= 0 and code[j] in " \t":
            j -= 1
        if (j >= 0 and code[j] == ".") or name in used:
            continue  # an attribute, or seen already
        used.append(name)
        if name not in known and name not in local:
            unknown.append(name)
    return unknown, len(used)


def made_only_of_unknown_names(text: str, document: str, language: str | None) -> bool:
    """What the check holds back when it is a lone automatic suggestion in `document`."""
    unknown, used = unknown_names(text, known_names([document], language), language)
    return used > 0 and len(unknown) == used
