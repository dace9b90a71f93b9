"""Generated tests: where they go and how they import the code (per framework and layout), the
unfinished last test of a cut answer, and running them in a temporary copy to keep the passing
ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codecomp_lsp.features.testgen import _complete_tests, count_tests
from codecomp_lsp.features.testgen_plan import TestPlan, plan_tests
from codecomp_lsp.features.testrun import drop_tests, run_python_tests

ADD_PY = "def add(a, b):\n    return a + b\n"


def test_python_tests_go_beside_the_module_or_into_tests(tmp_path: Path) -> None:
    module = tmp_path / "mathx.py"
    plan = plan_tests(module.as_uri(), ADD_PY, "python", "add")
    assert isinstance(plan, TestPlan)
    assert plan.framework == "pytest" and plan.uri == (tmp_path / "test_mathx.py").as_uri()
    assert plan.header == "from mathx import add\n\n\n" and plan.start == "def test_"
    (tmp_path / "tests").mkdir()
    unit = plan_tests(module.as_uri(), "import unittest\n" + ADD_PY, "python", "add")
    assert isinstance(unit, TestPlan) and unit.framework == "unittest"
    assert unit.uri == (tmp_path / "tests" / "test_mathx.py").as_uri()
    assert "class TestAdd(unittest.TestCase):" in unit.header and not unit.exists


def test_javascript_frameworks_come_from_package_json(tmp_path: Path) -> None:
    source = tmp_path / "src" / "sum.js"
    source.parent.mkdir()
    es = "export function sum(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}\n"
    plan = plan_tests(source.as_uri(), es, "javascript", "sum")
    assert isinstance(plan, TestPlan) and plan.framework == "node:test"
    assert 'import { sum } from "./sum.js";' in plan.header and "node:assert/strict" in plan.header
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"vitest": "^2"}}))
    assert plan_tests(source.as_uri(), es, "javascript", "sum").framework == "vitest"
    cjs = "function sum(xs) { return 0; }\nmodule.exports = { sum };\n"
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"jest": "^29"}}))
    jest = plan_tests(source.as_uri(), cjs, "javascript", "sum")
    assert jest.framework == "jest" and 'const { sum } = require("./sum");' in jest.header
    hidden = "function sum(xs) { return 0; }\n"
    assert "not exported" in plan_tests(source.as_uri(), hidden, "javascript", "sum")


def test_go_and_rust_follow_their_conventions(tmp_path: Path) -> None:
    go = plan_tests((tmp_path / "calc.go").as_uri(), "package calc\n", "go", "Add")
    assert go.uri.endswith("/calc_test.go") and go.header.startswith("package calc\n")
    rust = plan_tests((tmp_path / "lib.rs").as_uri(), "fn add() {}\n", "rust", "add")
    assert rust.uri.endswith("/lib.rs") and rust.exists and "mod tests" in rust.header


def test_a_cut_answer_loses_its_unfinished_last_test() -> None:
    body = "def test_one():\n    assert add(1, 2) == 3\n\n\ndef test_two():\n    assert add("
    assert _complete_tests(body, "pytest") == "def test_one():\n    assert add(1, 2) == 3\n"
    assert _complete_tests("def test_one():\n    assert (", "pytest") == ""
    assert count_tests(body, "pytest") == 2


TESTS = """from mathx import add


def test_small():
    assert add(1, 2) == 3


def test_wrong():
    assert add(2, 2) == 5


def test_network():
    import urllib.request
    urllib.request.urlopen("http://example.com", timeout=2)
"""


def test_generated_tests_run_in_a_copy_and_failing_ones_are_dropped() -> None:
    pytest.importorskip("pytest")
    ran = run_python_tests("mathx.py", ADD_PY, "test_mathx.py", TESTS, "pytest")
    assert ran.error is None
    assert ran.passed == ("test_small",) and set(ran.failed) == {"test_wrong", "test_network"}
    kept = drop_tests(TESTS, set(ran.failed))
    assert "def test_small" in kept and "test_wrong" not in kept and "urlopen" not in kept
    broken = run_python_tests(
        "mathx.py", ADD_PY, "test_mathx.py", "import nothing_here\n", "pytest"
    )
    assert broken.error is not None or broken.failed


def test_tests_for_an_existing_file_are_appended_without_repeating_its_imports(
    tmp_path: Path,
) -> None:
    from codecomp_lsp.features.testgen import TestGenService

    module = tmp_path / "mathx.py"
    existing = tmp_path / "test_mathx.py"
    existing.write_text("from mathx import add\n\n\ndef test_old():\n    assert add(0, 0) == 0\n")
    plan = plan_tests(module.as_uri(), ADD_PY, "python", "add")
    assert plan.exists
    tests = plan.header + "def test_new():\n    assert add(1, 1) == 2\n"
    doc = TestGenService._document(plan, tests, {})
    assert doc.insert_at == (5, 0) and doc.uri == existing.as_uri()
    assert "from mathx import add" not in doc.text and "def test_new():" in doc.text
    assert (existing.read_text() + doc.text).count("\n\n\ndef test_new") == 1
