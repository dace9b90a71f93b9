"""Language registry: languageId and extension mapping, grammar loading, per-thread parsers."""

import threading

import pytest
import tree_sitter

from codecomp_lsp.context.languages import all_specs, language_for, spec_by_name


@pytest.mark.parametrize(
    ("language_id", "expected"),
    [
        ("python", "python"),
        ("javascript", "javascript"),
        ("javascriptreact", "javascript"),
        ("typescript", "typescript"),
        ("typescriptreact", "tsx"),
        ("go", "go"),
        ("rust", "rust"),
        ("java", "java"),
        ("c", "c"),
        ("cpp", "cpp"),
        ("C++", "cpp"),
        ("golang", "go"),
    ],
)
def test_language_ids(language_id: str, expected: str) -> None:
    spec = language_for(language_id, None)
    assert spec is not None
    assert spec.name == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pkg/util.py", "python"),
        ("stubs/x.pyi", "python"),
        ("a.js", "javascript"),
        ("a.mjs", "javascript"),
        ("a.cjs", "javascript"),
        ("a.jsx", "javascript"),
        ("a.ts", "typescript"),
        ("a.mts", "typescript"),
        ("a.cts", "typescript"),
        ("App.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Main.java", "java"),
        ("x.c", "c"),
        ("x.h", "cpp"),
        ("x.cc", "cpp"),
        ("x.cpp", "cpp"),
        ("x.cxx", "cpp"),
        ("x.hpp", "cpp"),
        ("x.hh", "cpp"),
        ("file:///home/u/My%20Proj/Main.PY", "python"),
        ("C:\\src\\app\\main.rs", "rust"),
    ],
)
def test_extensions(path: str, expected: str) -> None:
    spec = language_for(None, path)
    assert spec is not None
    assert spec.name == expected


def test_language_id_wins_over_extension() -> None:
    spec = language_for("typescriptreact", "file:///a/b.py")
    assert spec is not None and spec.name == "tsx"
    # An unknown languageId falls back to the extension.
    spec = language_for("plaintext", "file:///a/b.go")
    assert spec is not None and spec.name == "go"


@pytest.mark.parametrize(
    ("language_id", "path"),
    [(None, None), ("markdown", "README.md"), (None, "Makefile"), ("", "x.unknown")],
)
def test_unknown_is_none(language_id: str | None, path: str | None) -> None:
    assert language_for(language_id, path) is None


def test_spec_facts() -> None:
    python = spec_by_name("python")
    go = spec_by_name("go")
    tsx = spec_by_name("tsx")
    assert python is not None and go is not None and tsx is not None
    assert python.line_comment == "#" and python.indent_based and not python.brace_based
    assert go.line_comment == "//" and go.brace_based and go.default_indent == "\t"
    assert tsx.family == spec_by_name("typescript").family  # type: ignore[union-attr]


def test_grammars_load_and_parse() -> None:
    for spec in all_specs():
        language = spec.language
        assert isinstance(language, tree_sitter.Language)
        assert spec.language is language  # built once
        tree = spec.parser().parse(b"x")
        assert tree is not None


def test_tsx_grammar_differs_from_typescript() -> None:
    jsx = b"const a = <div className='x'>hi</div>;\n"
    tsx, ts = spec_by_name("tsx"), spec_by_name("typescript")
    assert tsx is not None and ts is not None
    assert not tsx.parser().parse(jsx).root_node.has_error
    assert ts.parser().parse(jsx).root_node.has_error


def test_parser_is_per_thread() -> None:
    spec = spec_by_name("python")
    assert spec is not None
    here = spec.parser()
    assert spec.parser() is here
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(spec.parser()))
    thread.start()
    thread.join()
    assert seen and seen[0] is not here


def test_every_language_module_declares_all_its_rules() -> None:
    from codecomp_lsp.postprocess.scanner import syntax_for

    for spec in all_specs():
        assert spec.symbols is not None and spec.definitions is not None, spec.name
        assert spec.lexer is not None and syntax_for(spec.name) is spec.lexer, spec.name
        assert spec.line_comment in spec.lexer.line_comments, spec.name
        for alias in (spec.name, *spec.aliases):
            assert language_for(alias, None) is spec
        for extension in spec.extensions:
            assert language_for(None, f"file:///x/a{extension}") is spec
    # Unknown languages get a permissive lexer.
    assert syntax_for(None).line_comments == ("//", "#")
    assert syntax_for("markdown") is syntax_for(None)


def test_specs_compare_by_their_facts_not_their_tables() -> None:
    python = spec_by_name("python")
    assert python is not None
    assert hash(python) == hash(spec_by_name("py"))
    assert {python: 1}[spec_by_name("python3")] == 1
