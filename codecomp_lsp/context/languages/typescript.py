"""TypeScript and TSX: one grammar package, two grammars, the same rules (JavaScript's and more)."""

from __future__ import annotations

from codecomp_lsp.context.languages import javascript
from codecomp_lsp.context.languages.spec import DefinitionRules, LanguageSpec, kinds

DEFINITIONS = DefinitionRules(
    defs=javascript.DEFINITION_DEFS
    | kinds(
        "abstract_class_declaration",
        "interface_declaration",
        "type_alias_declaration",
        "enum_declaration",
        "function_signature",
    ),
    classes=kinds("class_declaration", "abstract_class_declaration"),
    members=kinds(
        "method_definition",
        "public_field_definition",
        "abstract_method_signature",
        "method_signature",
    ),
    wrappers=kinds("export_statement", "ambient_declaration"),
    scopes=kinds("expression_statement", "internal_module", "module", "statement_block"),
)

TYPESCRIPT = LanguageSpec(
    "typescript",
    "tree_sitter_typescript",
    "language_typescript",
    "//",
    False,
    family="javascript",
    aliases=("ts",),
    extensions=(".ts", ".mts", ".cts"),
    symbols=javascript.SYMBOLS,
    definitions=DEFINITIONS,
    lexer=javascript.LEXER,
)
TSX = LanguageSpec(
    "tsx",
    "tree_sitter_typescript",
    "language_tsx",
    "//",
    False,
    family="javascript",
    aliases=("typescriptreact",),
    extensions=(".tsx",),
    symbols=javascript.SYMBOLS,
    definitions=DEFINITIONS,
    lexer=javascript.LEXER,
)

SPECS = (TYPESCRIPT, TSX)
