"""Where generated unit tests go and how they start: the framework, the test file, the header.

Pure decisions from the document and the files beside it, so the model writes only test
functions after a header we wrote (imports the code under test the way that framework and
module layout need):
- Python: pytest, or unittest when the document or its existing test file uses it; the test
  file is `tests/test_<module>.py` when a `tests/` folder sits beside the module, else
  `test_<module>.py` beside it; `from <module> import <name>`.
- JavaScript/TypeScript: Vitest or Jest when the nearest `package.json` names it, else
  `node:test`; `<stem>.test.<ext>` beside it; the name is imported as the module exports it
  (ES `export` or CommonJS `module.exports`) — a name it does not export cannot be tested.
- Go: `<stem>_test.go` in the same package with `testing`.
- Rust: a `#[cfg(test)] mod tests` appended to the same file, `use super::*;`.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["TestPlan", "path_of", "plan_tests"]

TEST_LANGUAGES = ("python", "javascript", "typescript", "go", "rust")


@dataclass(frozen=True)
class TestPlan:
    __test__ = False  # not a pytest test class

    framework: str  # pytest, unittest, node:test, jest, vitest, go, rust
    language: str
    uri: str  # the test file (for Rust: the document itself)
    header: str  # what the file starts with before the tests (imports, package, module)
    start: str  # the first characters of the first test, given to the model
    footer: str = ""  # closes what the header opened (Rust's module)
    exists: bool = False  # the test file is there already: the tests are appended


def path_of(uri: str) -> Path | None:
    parts = urlsplit(uri)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _sibling(uri: str, *names: str) -> str:
    parts = urlsplit(uri)
    folder = posixpath.dirname(parts.path)
    return parts._replace(path=posixpath.join(folder, *names)).geturl()


def _package_json(path: Path | None) -> dict:
    for folder in path.parents if path else ():
        found = folder / "package.json"
        if found.is_file():
            try:
                data = json.loads(found.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _js_framework(path: Path | None) -> str:
    package = _package_json(path)
    deps = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    for name in ("vitest", "jest"):
        if name in deps or name in json.dumps(package.get("scripts", {})):
            return name
    return "node:test"


def _exists(uri: str, open_uris: set[str]) -> bool:
    path = path_of(uri)
    return uri in open_uris or bool(path and path.is_file())


def plan_tests(
    uri: str, text: str, language: str, name: str, open_uris: set[str] | None = None
) -> TestPlan | str:
    """How tests for `name` (a top-level definition of this document) are written, or why not."""
    open_uris = open_uris or set()
    path = path_of(uri)
    stem = posixpath.splitext(posixpath.basename(urlsplit(uri).path))[0] or "module"
    if language == "python":
        module = re.sub(r"\W", "_", stem)
        folder = path.parent if path else None
        in_tests = bool(folder and (folder / "tests").is_dir())
        test_uri = _sibling(uri, *(["tests"] if in_tests else []), f"test_{module}.py")
        existing = path_of(test_uri)
        existing_text = existing.read_text("utf-8") if existing and existing.is_file() else ""
        unit = re.search(r"^\s*(import unittest|from unittest import)", text + existing_text, re.M)
        imports = f"from {module} import {name}\n"
        if unit:
            header = f"import unittest\n\n{imports}\n\nclass Test{name[:1].upper()}{name[1:]}(unittest.TestCase):\n"
            return TestPlan(
                "unittest",
                language,
                test_uri,
                header,
                "    def test_",
                "",
                _exists(test_uri, open_uris),
            )
        return TestPlan(
            "pytest",
            language,
            test_uri,
            f"{imports}\n\n",
            "def test_",
            "",
            _exists(test_uri, open_uris),
        )
    if language in ("javascript", "typescript"):
        exported_es = re.search(
            rf"^\s*export\s+(default\s+)?(async\s+)?(function|const|let|class)\s+{re.escape(name)}\b",
            text,
            re.M,
        )
        exported_cjs = re.search(
            rf"module\.exports\s*=\s*\{{[^}}]*\b{re.escape(name)}\b|module\.exports\.{re.escape(name)}\b|exports\.{re.escape(name)}\b",
            text,
        )
        if not exported_es and not exported_cjs:
            return f"`{name}` is not exported, so a test file cannot import it"
        framework = _js_framework(path)
        ext = ".ts" if language == "typescript" else ".js"
        test_uri = _sibling(uri, f"{stem}.test{ext}")
        source = f"./{stem}" + ("" if language == "typescript" else ".js")
        if exported_es:
            target = f'import {{ {name} }} from "{source}";\n'
        else:
            target = f'const {{ {name} }} = require("./{stem}");\n'
        if framework == "node:test":
            runner = (
                'import { test } from "node:test";\nimport assert from "node:assert/strict";\n'
                if exported_es
                else 'const { test } = require("node:test");\nconst assert = require("node:assert/strict");\n'
            )
        elif framework == "vitest":
            runner = 'import { describe, expect, test } from "vitest";\n'
        else:
            runner = ""  # Jest's globals
        header = f"{runner}{target}\n"
        return TestPlan(
            framework, language, test_uri, header, 'test("', "", _exists(test_uri, open_uris)
        )
    if language == "go":
        package = re.search(r"^package\s+(\w+)", text, re.M)
        if package is None:
            return "the file has no package clause"
        test_uri = _sibling(uri, f"{stem}_test.go")
        header = f'package {package[1]}\n\nimport "testing"\n\n'
        return TestPlan(
            "go", language, test_uri, header, "func Test", "", _exists(test_uri, open_uris)
        )
    if language == "rust":
        if re.search(r"#\[cfg\(test\)\]", text):
            return "the file has a test module already"
        header = "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
        return TestPlan("rust", language, uri, header, "    #[test]\n    fn ", "}\n", True)
    return f"tests for {language} are not generated"
