"""Every supported language, one module each, and the registry that maps documents to them.

A language module (`python.py`, `go.py`, ...) declares `SPECS`: its `LanguageSpec`s, each holding
everything the rest of the code knows about that language — the grammar package to load, the
layout facts (comment marker, indentation), the languageIds and file extensions naming it, the
symbol rules hover and code actions use (`SymbolRules`), the definition rules of the snippet index
(`DefinitionRules`) and the lexical facts of the post-processing scanner (`LexSyntax`).

A new language is one new module here plus its name in `_MODULES` below.
"""

from __future__ import annotations

import importlib
import posixpath
from urllib.parse import unquote, urlsplit

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
)

__all__ = [
    "DefinitionRules",
    "LanguageSpec",
    "LexSyntax",
    "SymbolRules",
    "all_specs",
    "language_for",
    "spec_by_name",
    "spec_named",
]

# The language modules, in the order all_specs() lists their languages.
_MODULES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp")


def _register() -> tuple[dict[str, LanguageSpec], dict[str, str], dict[str, str]]:
    specs: dict[str, LanguageSpec] = {}
    ids: dict[str, str] = {}  # LSP languageIds (and common aliases) -> canonical name
    extensions: dict[str, str] = {}  # file extensions -> canonical name
    for module in _MODULES:
        for spec in importlib.import_module(f"{__name__}.{module}").SPECS:
            if spec.name in specs:
                raise ValueError(f"language {spec.name!r} is declared twice")
            specs[spec.name] = spec
            for table, keys in ((ids, (spec.name, *spec.aliases)), (extensions, spec.extensions)):
                for key in keys:
                    if table.setdefault(key, spec.name) != spec.name:
                        raise ValueError(f"{key!r} names both {table[key]!r} and {spec.name!r}")
    return specs, ids, extensions


_SPECS, _LANGUAGE_IDS, _EXTENSIONS = _register()


def spec_named(name: str) -> LanguageSpec | None:
    """The spec whose canonical name is exactly `name` (no aliases, no case folding)."""
    return _SPECS.get(name)


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
