"""Run generated Python tests before anyone sees them (`runGeneratedTests`, off by default).

The document and the test file are copied into a temporary folder and run there with pytest
(or `unittest` where pytest is not installed and the tests are unittest ones) in a subprocess
with a timeout; a `sitecustomize` in that folder makes every socket connection fail, so a test
cannot reach the network. The tests that fail are removed from the file (tree-sitter finds
their definitions), and the caller says how many were dropped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.syntax import parse

__all__ = ["TestRun", "drop_tests", "run_python_tests"]

TIMEOUT_S = 30.0
_NO_NETWORK = """import socket

def _refused(*args, **kwargs):
    raise OSError("network access is off for generated tests")

socket.socket.connect = _refused
socket.socket.connect_ex = _refused
socket.create_connection = _refused
"""


@dataclass(frozen=True)
class TestRun:
    __test__ = False  # not a pytest test class

    passed: tuple[str, ...]
    failed: tuple[str, ...]
    error: str | None = None  # nothing ran (collection failed, timed out, no runner)


def run_python_tests(
    module_name: str, module_text: str, test_name: str, test_text: str, framework: str
) -> TestRun:
    """Run the tests in a temporary copy; which test functions passed and which failed."""
    have_pytest = importlib.util.find_spec("pytest") is not None
    if framework == "pytest" and not have_pytest:
        return TestRun((), (), "pytest is not installed here")
    with tempfile.TemporaryDirectory(prefix="codecomp-tests-") as folder:
        root = Path(folder)
        (root / module_name).write_text(module_text, encoding="utf-8")
        (root / test_name).write_text(test_text, encoding="utf-8")
        (root / "sitecustomize.py").write_text(_NO_NETWORK, encoding="utf-8")
        report = root / "report.xml"
        if have_pytest:
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            command += ["--junitxml", str(report), test_name]
        else:
            command = [sys.executable, "-m", "unittest", "-v", test_name[:-3]]
        env = {**os.environ, "PYTHONPATH": folder, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return TestRun((), (), f"the tests ran past {TIMEOUT_S:.0f} s")
        if have_pytest:
            return _junit(report, done.stdout)
        return _unittest(done.stderr)


def _junit(report: Path, output: str) -> TestRun:
    if not report.is_file():
        return TestRun((), (), output.strip().splitlines()[-1] if output.strip() else "no report")
    passed, failed = [], []
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "").split("[")[0]
        bad = case.find("failure") is not None or case.find("error") is not None
        (failed if bad else passed).append(name)
    if not passed and not failed:
        return TestRun((), (), "no test was collected")
    return TestRun(tuple(passed), tuple(failed))


def _unittest(output: str) -> TestRun:
    passed, failed = [], []
    for line in output.splitlines():
        if " ... " in line and line.startswith("test"):
            name = line.split(" ", 1)[0]
            (passed if line.rstrip().endswith("ok") else failed).append(name)
    if not passed and not failed:
        return TestRun((), (), "no test ran")
    return TestRun(tuple(passed), tuple(failed))


def drop_tests(test_text: str, names: set[str]) -> str:
    """`test_text` without the Python test functions (or methods) called one of `names`."""
    spec = spec_by_name("python")
    assert spec is not None
    tree = parse(test_text, spec)
    rows: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        target = (
            node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        )
        if target is not None and target.type == "function_definition":
            named = target.child_by_field_name("name")
            if named is not None and (named.text or b"").decode() in names:
                rows.append((node.start_point.row, node.end_point.row))
                continue
        stack.extend(node.children)
    lines = test_text.split("\n")
    for first, last in sorted(rows, reverse=True):
        del lines[first : last + 1]
    return "\n".join(lines)
