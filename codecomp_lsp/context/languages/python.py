"""Python: indentation blocks, `#` comments, docstrings, triple-quoted strings."""

from __future__ import annotations

from codecomp_lsp.context.languages.spec import (
    DefinitionRules,
    LanguageSpec,
    LexSyntax,
    SymbolRules,
    kinds,
)

SPEC = LanguageSpec(
    "python",
    "tree_sitter_python",
    "language",
    "#",
    True,
    family="python",
    aliases=("python3", "py"),
    extensions=(".py", ".pyi"),
    symbols=SymbolRules(
        defs={
            "function_definition": "function",
            "class_definition": "class",
            "assignment": "variable",
        },
        wrappers=kinds("decorated_definition", "expression_statement"),
        containers=kinds("class_definition"),
        function_bodies=kinds("function_definition", "lambda"),
        calls={"call": "function"},
        members={"attribute": "attribute"},
    ),
    definitions=DefinitionRules(
        defs=kinds(
            "function_definition",
            "class_definition",
            "expression_statement",
            "type_alias_statement",
        ),
        classes=kinds("class_definition"),
        members=kinds("function_definition"),
        wrappers=kinds("decorated_definition"),
        scopes=kinds(),
    ),
    lexer=LexSyntax(
        line_comments=("#",),
        block_comment=None,
        quotes=('"""', "'''", '"', "'"),
        multiline_quotes=frozenset({'"""', "'''"}),
    ),
)

SPECS = (SPEC,)
