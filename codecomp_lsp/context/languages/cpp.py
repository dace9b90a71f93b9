"""C++: C's rules plus classes, templates, namespaces and qualified names."""

from __future__ import annotations

from codecomp_lsp.context.languages import c
from codecomp_lsp.context.languages.spec import DefinitionRules, LanguageSpec, SymbolRules, kinds

SPEC = LanguageSpec(
    "cpp",
    "tree_sitter_cpp",
    "language",
    "//",
    False,
    family="c",
    aliases=("c++", "cxx", "cc"),
    # `.h` is C++'s: its grammar parses C headers nearly error-free, while the C grammar
    # chokes on C++ headers.
    extensions=(".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"),
    symbols=SymbolRules(
        defs={
            **c.SYMBOL_DEFS,
            "class_specifier": "class",
            "alias_declaration": "type",
            "namespace_definition": "namespace",
        },
        wrappers=kinds("template_declaration"),
        containers=kinds("class_specifier", "struct_specifier", "union_specifier"),
        function_bodies=kinds("function_definition", "lambda_expression"),
        calls={"call_expression": "function"},
        members={"field_expression": "field", "qualified_identifier": "name"},
    ),
    definitions=DefinitionRules(
        defs=c.DEFINITION_DEFS | kinds("class_specifier", "alias_declaration"),
        classes=kinds("class_specifier", "struct_specifier"),
        members=kinds("function_definition", "field_declaration", "declaration"),
        wrappers=kinds("template_declaration"),
        scopes=c.PREPROC_SCOPES
        | kinds("namespace_definition", "declaration_list", "linkage_specification"),
    ),
    lexer=c.LEXER,
)

SPECS = (SPEC,)
