"""Rust: items, impl blocks, `///` doc comments, lifetimes that look like char literals."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

SPEC = LanguageSpec(
    "rust",
    "tree_sitter_rust",
    "language",
    "//",
    False,
    family="rust",
    aliases=("rs",),
    extensions=(".rs",),
    symbols=SymbolRules(
        defs={
            "function_item": "function",
            "function_signature_item": "function",
            "struct_item": "struct",
            "enum_item": "enum",
            "union_item": "union",
            "trait_item": "trait",
            "type_item": "type",
            "const_item": "constant",
            "static_item": "static",
            "let_declaration": "variable",
            "macro_definition": "macro",
            "mod_item": "module",
            "field_declaration": "field",
        },
        wrappers=kinds(),
        containers=kinds("impl_item", "trait_item", "struct_item"),
        function_bodies=kinds("function_item", "closure_expression"),
        calls={"call_expression": "function", "macro_invocation": "macro"},
        members={"field_expression": "field", "scoped_identifier": "name"},
        comment_types=kinds("line_comment", "block_comment"),
    ),
    definitions=DefinitionRules(
        defs=kinds(
            "function_item",
            "function_signature_item",
            "struct_item",
            "enum_item",
            "union_item",
            "trait_item",
            "type_item",
            "const_item",
            "static_item",
            "macro_definition",
            "impl_item",
        ),
        classes=kinds("impl_item", "trait_item"),
        members=kinds("function_item", "function_signature_item", "const_item", "type_item"),
        wrappers=kinds(),
        scopes=kinds("mod_item", "declaration_list"),
    ),
    lexer=LexSyntax(quotes=('"',), char_literals=True),
)

SPECS = (SPEC,)
