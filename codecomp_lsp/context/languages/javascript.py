"""JavaScript (and JSX); TypeScript builds on the tables here."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

# Shared with typescript / tsx.
SYMBOLS = SymbolRules(
    defs={
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "function_signature": "function",
        "class_declaration": "class",
        "abstract_class_declaration": "class",
        "method_definition": "method",
        "method_signature": "method",
        "abstract_method_signature": "method",
        "variable_declarator": "variable",
        "field_definition": "field",
        "public_field_definition": "field",
        "property_signature": "field",
        "interface_declaration": "interface",
        "type_alias_declaration": "type",
        "enum_declaration": "enum",
    },
    wrappers=kinds(
        "export_statement", "lexical_declaration", "variable_declaration", "ambient_declaration"
    ),
    containers=kinds(
        "class_declaration", "abstract_class_declaration", "class", "interface_declaration"
    ),
    function_bodies=kinds(
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "function_expression",
        "arrow_function",
    ),
    calls={"call_expression": "function", "new_expression": "constructor"},
    members={"member_expression": "property"},
)
DEFINITION_DEFS = kinds(
    "function_declaration",
    "generator_function_declaration",
    "class_declaration",
    "lexical_declaration",
    "variable_declaration",
)
LEXER = LexSyntax(quotes=('"', "'", "`"), multiline_quotes=frozenset("`"))

SPEC = LanguageSpec(
    "javascript",
    "tree_sitter_javascript",
    "language",
    "//",
    False,
    family="javascript",
    aliases=("javascriptreact", "js", "jsx", "node"),
    extensions=(".js", ".mjs", ".cjs", ".jsx"),
    symbols=SYMBOLS,
    definitions=DefinitionRules(
        defs=DEFINITION_DEFS,
        classes=kinds("class_declaration"),
        members=kinds("method_definition", "field_definition"),
        wrappers=kinds("export_statement"),
        scopes=kinds(),
    ),
    lexer=LEXER,
)

SPECS = (SPEC,)
