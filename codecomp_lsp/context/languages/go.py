"""Go: tabs, `//` comments, backquoted raw strings, methods declared outside their type."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

SPEC = LanguageSpec(
    "go",
    "tree_sitter_go",
    "language",
    "//",
    False,
    "\t",
    family="go",
    aliases=("golang",),
    extensions=(".go",),
    symbols=SymbolRules(
        defs={
            "function_declaration": "function",
            "method_declaration": "method",
            "type_spec": "type",
            "type_alias": "type",
            "var_spec": "variable",
            "const_spec": "constant",
            "short_var_declaration": "variable",
            "field_declaration": "field",
            "method_elem": "method",
        },
        wrappers=kinds("type_declaration", "var_declaration", "const_declaration"),
        containers=kinds("type_spec"),
        function_bodies=kinds("function_declaration", "method_declaration", "func_literal"),
        calls={"call_expression": "function"},
        members={"selector_expression": "field"},
    ),
    definitions=DefinitionRules(
        defs=kinds(
            "function_declaration",
            "method_declaration",
            "type_declaration",
            "const_declaration",
            "var_declaration",
        ),
        classes=kinds(),
        members=kinds(),
        wrappers=kinds(),
        scopes=kinds(),
    ),
    lexer=LexSyntax(
        quotes=('"', "`"),
        multiline_quotes=frozenset("`"),
        raw_quotes=frozenset("`"),
        char_literals=True,
    ),
)

SPECS = (SPEC,)
