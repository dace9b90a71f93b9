"""Java: classes and their members, `/** */` doc comments, text blocks."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

SPEC = LanguageSpec(
    "java",
    "tree_sitter_java",
    "language",
    "//",
    False,
    family="java",
    extensions=(".java",),
    symbols=SymbolRules(
        defs={
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "annotation_type_declaration": "annotation",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
            "variable_declarator": "variable",
        },
        wrappers=kinds("field_declaration", "local_variable_declaration", "constant_declaration"),
        containers=kinds(
            "class_declaration", "interface_declaration", "enum_declaration", "record_declaration"
        ),
        function_bodies=kinds("method_declaration", "constructor_declaration", "lambda_expression"),
        calls={"method_invocation": "name", "object_creation_expression": "type"},
        members={"field_access": "field"},
        comment_types=kinds("line_comment", "block_comment"),
    ),
    definitions=DefinitionRules(
        defs=kinds(
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "annotation_type_declaration",
        ),
        classes=kinds(
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
        ),
        members=kinds(
            "method_declaration",
            "constructor_declaration",
            "field_declaration",
            "constant_declaration",
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
        ),
        wrappers=kinds(),
        scopes=kinds("enum_body_declarations"),
    ),
    lexer=LexSyntax(quotes=('"""', '"'), multiline_quotes=frozenset({'"""'}), char_literals=True),
)

SPECS = (SPEC,)
