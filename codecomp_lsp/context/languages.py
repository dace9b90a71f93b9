"""Which tree-sitter grammar and comment syntax belong to a document.

Grammars are loaded lazily (importing all of them costs startup time) and parsers are
kept per thread because a `tree_sitter.Parser` must not be shared between threads.
"""

from __future__ import annotations

import importlib
import posixpath
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import tree_sitter

__all__ = [
    "LanguageSpec",
    "all_specs",
    "language_for",
    "spec_by_name",
]


@dataclass(frozen=True)
class LanguageSpec:
    """A supported language: canonical name, grammar loader and a few layout facts."""

    name: str  # canonical name: "python", "javascript", "typescript", "tsx", "go", ...
    module: str  # grammar package, e.g. "tree_sitter_python"
    function: str  # function of that package returning the grammar pointer
    line_comment: str  # "#" or "//"
    indent_based: bool  # True when blocks are delimited by indentation (python)
    default_indent: str = "    "  # indent unit used when the file gives no hint
    family: str = ""  # languages whose definitions may be shown to each other ("c" for c/cpp)

    @property
    def brace_based(self) -> bool:
        """Whether blocks are delimited by `{` and `}`."""
        return not self.indent_based

    @property
    def language(self) -> tree_sitter.Language:
        """The grammar, built once per process."""
        return _language(self)

    def parser(self) -> tree_sitter.Parser:
        """A parser for this grammar owned by the calling thread."""
        parsers: dict[str, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
        if parsers is None:
            parsers = {}
            _local.parsers = parsers
        parser = parsers.get(self.name)
        if parser is None:
            parser = tree_sitter.Parser(self.language)
            parsers[self.name] = parser
        return parser


_SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python", "language", "#", True, family="python"),
        LanguageSpec(
            "javascript",
            "tree_sitter_javascript",
            "language",
            "//",
            False,
            family="javascript",
        ),
        LanguageSpec(
            "typescript",
            "tree_sitter_typescript",
            "language_typescript",
            "//",
            False,
            family="javascript",
        ),
        LanguageSpec(
            "tsx",
            "tree_sitter_typescript",
            "language_tsx",
            "//",
            False,
            family="javascript",
        ),
        LanguageSpec("go", "tree_sitter_go", "language", "//", False, "\t", family="go"),
        LanguageSpec("rust", "tree_sitter_rust", "language", "//", False, family="rust"),
        LanguageSpec("java", "tree_sitter_java", "language", "//", False, family="java"),
        LanguageSpec("c", "tree_sitter_c", "language", "//", False, family="c"),
        LanguageSpec("cpp", "tree_sitter_cpp", "language", "//", False, family="c"),
    )
}

# LSP languageIds (and common aliases) -> canonical name.
_LANGUAGE_IDS: dict[str, str] = {
    "python": "python",
    "python3": "python",
    "py": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "node": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "typescriptreact": "tsx",
    "tsx": "tsx",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cxx": "cpp",
    "cc": "cpp",
}

# File extensions -> canonical name. `.h` goes to C++: its grammar parses C headers
# nearly error-free, while the C grammar chokes on C++ headers.
_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "cpp",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}

_local = threading.local()
_languages: dict[str, tree_sitter.Language] = {}
_languages_lock = threading.Lock()


def _language(spec: LanguageSpec) -> tree_sitter.Language:
    language = _languages.get(spec.name)
    if language is None:
        with _languages_lock:
            language = _languages.get(spec.name)
            if language is None:
                module = importlib.import_module(spec.module)
                language = tree_sitter.Language(getattr(module, spec.function)())
                _languages[spec.name] = language
    return language


def spec_by_name(name: str | None) -> LanguageSpec | None:
    """The spec for a canonical name or languageId alias (case-insensitive)."""
    if not name:
        return None
    canonical = _LANGUAGE_IDS.get(name.strip().lower())
    return _SPECS.get(canonical) if canonical else None


def all_specs() -> tuple[LanguageSpec, ...]:
    """Every supported language, in a fixed order."""
    return tuple(_SPECS.values())


def _extension(path_or_uri: str) -> str:
    path = path_or_uri
    if "://" in path_or_uri or path_or_uri.startswith(("file:", "untitled:")):
        path = unquote(urlsplit(path_or_uri).path)
    path = path.replace("\\", "/")
    return posixpath.splitext(posixpath.basename(path))[1].lower()


def language_for(language_id: str | None, path_or_uri: str | None) -> LanguageSpec | None:
    """The spec for a document: its languageId wins, then its file extension; else None."""
    spec = spec_by_name(language_id)
    if spec is None and path_or_uri:
        canonical = _EXTENSIONS.get(_extension(path_or_uri))
        spec = _SPECS.get(canonical) if canonical else None
    return spec
