"""C: declarators, the preprocessor, char literals; C++ builds on the tables here."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

# Shared with cpp.
SYMBOL_DEFS = {
    "function_definition": "function",
    "declaration": "variable",
    "field_declaration": "field",
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "type_definition": "type",
    "preproc_def": "macro",
    "preproc_function_def": "macro",
}
DEFINITION_DEFS = kinds(
    "function_definition",
    "declaration",
    "type_definition",
    "struct_specifier",
    "union_specifier",
    "enum_specifier",
    "preproc_def",
    "preproc_function_def",
)
PREPROC_SCOPES = kinds(
    "preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef"
)
LEXER = LexSyntax(quotes=('"',), char_literals=True)

SPEC = LanguageSpec(
    "c",
    "tree_sitter_c",
    "language",
    "//",
    False,
    family="c",
    extensions=(".c",),
    symbols=SymbolRules(
        defs=SYMBOL_DEFS,
        wrappers=kinds(),
        containers=kinds("struct_specifier", "union_specifier"),
        function_bodies=kinds("function_definition"),
        calls={"call_expression": "function"},
        members={"field_expression": "field"},
    ),
    definitions=DefinitionRules(
        defs=DEFINITION_DEFS,
        classes=kinds(),
        members=kinds(),
        wrappers=kinds(),
        scopes=PREPROC_SCOPES,
    ),
    lexer=LEXER,
)

SPECS = (SPEC,)
