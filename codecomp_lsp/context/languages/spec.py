"""The shape of what a language module declares, and the grammar loading every language shares.

Grammars are loaded lazily (importing all of them costs startup time) and parsers are kept per
thread because a `tree_sitter.Parser` must not be shared between threads.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field

import tree_sitter

__all__ = [
    "DefinitionRules",
    "LanguageSpec",
    "LexSyntax",
    "SymbolRules",
    "kinds",
]


def kinds(*names: str) -> frozenset[str]:
    """A set of tree-sitter node types."""
    return frozenset(names)


@dataclass(frozen=True)
class SymbolRules:
    """How hover and code actions find definitions and references (`context.symbols`)."""

    defs: dict[str, str]  # node type -> kind
    wrappers: frozenset[str]  # statements that lend their range and comments to a definition
    containers: frozenset[str]  # definitions whose members get a container name
    function_bodies: frozenset[str]  # definitions whose body makes inner definitions local
    calls: dict[str, str]  # call node type -> field holding the callee
    members: dict[str, str]  # member-access node type -> field holding the member name
    comment_types: frozenset[str] = frozenset({"comment"})


@dataclass(frozen=True)
class DefinitionRules:
    """Which top-level and class-level definitions the snippet index shows (`context.definitions`)."""

    defs: frozenset[str]  # definitions at file (or namespace) level
    classes: frozenset[str]  # definitions whose body holds member definitions
    members: frozenset[str]  # definitions inside a class body
    wrappers: frozenset[str]  # lend their range to one inner definition (export, decorators)
    scopes: frozenset[str]  # their children are file-level too (namespaces, #ifdef)


@dataclass(frozen=True)
class LexSyntax:
    """The few lexical facts of a language that decide what is code and what is not
    (`postprocess.scanner`)."""

    line_comments: tuple[str, ...] = ("//",)
    block_comment: tuple[str, str] | None = ("/*", "*/")
    quotes: tuple[str, ...] = ('"', "'")  # longest delimiters first
    multiline_quotes: frozenset[str] = frozenset()  # delimiters whose strings may span lines
    raw_quotes: frozenset[str] = frozenset()  # delimiters whose strings have no escapes
    char_literals: bool = False  # "'" starts a string only when a char literal closes right away


@dataclass(frozen=True)
class LanguageSpec:
    """A supported language: canonical name, grammar loader, layout facts and rule tables.

    Equality and hashing look at the identity and layout fields only, not at the rule tables.
    """

    name: str  # canonical name: "python", "javascript", "typescript", "tsx", "go", ...
    module: str  # grammar package, e.g. "tree_sitter_python"
    function: str  # function of that package returning the grammar pointer
    line_comment: str  # "#" or "//"
    indent_based: bool  # True when blocks are delimited by indentation (python)
    default_indent: str = "    "  # indent unit used when the file gives no hint
    family: str = ""  # languages whose definitions may be shown to each other ("c" for c/cpp)
    aliases: tuple[str, ...] = ()  # LSP languageIds (lower case) naming it, besides `name`
    extensions: tuple[str, ...] = ()  # file extensions (lower case, with the dot)
    symbols: SymbolRules | None = field(default=None, compare=False, repr=False)
    definitions: DefinitionRules | None = field(default=None, compare=False, repr=False)
    lexer: LexSyntax | None = field(default=None, compare=False, repr=False)

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
