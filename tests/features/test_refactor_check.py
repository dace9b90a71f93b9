"""The checks a refactoring's rewrite must pass, on hand-written selections and rewrites: names
read from outside and defined for outside kept, renames only of locals, the new function of an
extraction, and the diff-sized edits of an accepted rewrite."""

from __future__ import annotations

import textwrap

import pytest

from codecomp_lsp.context.languages import spec_by_name
from codecomp_lsp.context.names import Names, occurrences
from codecomp_lsp.context.syntax import parse
from codecomp_lsp.features.modelio import TextChange
from codecomp_lsp.features.refactor import (
    SIMPLIFY,
    RefactorService,
    answer_code,
    selected_lines,
    without_context,
)
from codecomp_lsp.features.refactor_check import (
    check_extract,
    check_rename,
    check_rewrite,
    line_changes,
    selection_facts,
)
from codecomp_lsp.features.rename import apply_renames, parse_renames
from tests.samples import TOTAL_SIZE_PY

PY = TOTAL_SIZE_PY
# Lines 6..9: the loop. It reads `os`, `path`, `total`; binds `total` (read after it), `dirpath`,
# `names`, `n`, `full` (local to it).
LOOP = (6, 9)

JS = """import { readFileSync } from "fs";

export function countWords(file) {
  const text = readFileSync(file, "utf8");
  let count = 0;
  for (const word of text.split(/\\s+/)) {
    const trimmed = word.trim();
    if (trimmed.length > 0) {
      count += 1;
    }
  }
  return count;
}
"""
JS_LOOP = (5, 10)


def _py_facts(rows=LOOP):
    return selection_facts(PY, spec_by_name("python"), *rows)


def _lines(text: str) -> list[str]:
    return text.strip("\n").split("\n")


def _body(text: str) -> list[str]:
    """Rewritten lines of the loop, which sits one level deep in `total_size`."""
    return ["    " + row if row else row for row in textwrap.dedent(text).strip("\n").split("\n")]


def test_python_selection_facts() -> None:
    facts = _py_facts()
    assert facts.names.free == ("os", "path", "total")
    assert facts.outside == ("total",)
    assert facts.renamable == {"dirpath", "names", "n", "full", "_"}
    assert "path" in facts.scope_locals and "os" in facts.module_names
    assert "total_size" in facts.module_names and "total" not in facts.module_names


def test_javascript_selection_facts() -> None:
    facts = selection_facts(JS, spec_by_name("javascript"), *JS_LOOP)
    assert facts.names.free == ("text", "count")
    assert facts.outside == ("count",)
    assert facts.renamable == {"word", "trimmed"}
    assert "readFileSync" in facts.module_names


def test_reads_before_binding_are_free_and_attributes_are_not_names() -> None:
    spec = spec_by_name("python")
    code = "x = x + 1\nsquares = [i * i for i in items]\nf(key=obj.attr)\n"
    names = Names.of(occurrences(parse(code, spec).root_node, "python"))
    assert names.free == ("x", "items", "f", "obj")
    assert {"x", "squares", "i"} <= names.bound


SIMPLER = """
        for dirpath, _, names in os.walk(path):
            total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
"""


def test_a_simplification_that_keeps_the_names_passes() -> None:
    spec = spec_by_name("python")
    new, failure = check_rewrite(PY, spec, _py_facts(), _body(SIMPLER))
    assert failure is None
    assert "total += sum(" in new


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        # `path` replaced by a literal: a free name is gone.
        (
            """
        for dirpath, _, names in os.walk("."):
            total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
""",
            "the rewrite no longer uses `path`",
        ),
        # The running total goes to a new name: later code reads `total`.
        (
            """
        size = total
        for dirpath, _, names in os.walk(path):
            size += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
""",
            "the rewrite no longer defines `total`, which later code uses",
        ),
        # Binds `total` before reading it: the outer value is no longer used.
        (
            """
        total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(path) for n in ns)
""",
            "the rewrite no longer uses `total`",
        ),
        (
            """
        for dirpath, _, names in os.walk(path:
            total += 1
""",
            "the rewrite does not parse",
        ),
    ],
)
def test_rewrites_that_lose_a_name_or_break_the_syntax_are_refused(rewrite: str, reason: str):
    _, failure = check_rewrite(PY, spec_by_name("python"), _py_facts(), _body(rewrite))
    assert failure == reason


def test_javascript_rewrites() -> None:
    spec = spec_by_name("javascript")
    facts = selection_facts(JS, spec, *JS_LOOP)
    good = """
  count += text.split(/\\s+/).filter((word) => word.trim().length > 0).length;
"""
    assert check_rewrite(JS, spec, facts, _lines(good))[1] is None
    lost = """
  const count2 = text.split(/\\s+/).filter((w) => w.trim()).length;
"""
    assert check_rewrite(JS, spec, facts, _lines(lost))[1] == "the rewrite no longer uses `count`"


RENAMED = """
        for directory, _, file_names in os.walk(path):
            for file_name in file_names:
                file_path = os.path.join(directory, file_name)
                total = total + os.path.getsize(file_path)
"""


def test_a_rename_of_locals_only_passes() -> None:
    _, failure = check_rename(PY, spec_by_name("python"), _py_facts(), _body(RENAMED))
    assert failure is None


@pytest.mark.parametrize(
    ("rewrite", "reason"),
    [
        (RENAMED.replace("(path)", "(root)"), "the rewrite no longer uses `path`"),
        (
            RENAMED.replace("total = total +", "size = total +"),
            "the rewrite no longer defines `total`, which later code uses",
        ),
        (
            RENAMED.replace("os.path.join", "os.path.realpath"),
            "the rewrite changes more than names",
        ),
        (
            RENAMED.replace("for file_name in file_names", "for file_name in names2"),
            "the rewrite renames `names` inconsistently",
        ),
        (
            RENAMED.replace("file_path", "os"),
            "the rewrite renames `full` to `os`, a name already in use",
        ),
        (RENAMED.replace("getsize(", "getsize(0 or "), "the rewrite changes more than names"),
    ],
)
def test_renames_beyond_the_locals_are_refused(rewrite: str, reason: str) -> None:
    _, failure = check_rename(PY, spec_by_name("python"), _py_facts(), _body(rewrite))
    assert failure == reason


def test_a_javascript_rename_may_not_touch_free_names() -> None:
    spec = spec_by_name("javascript")
    facts = selection_facts(JS, spec, *JS_LOOP)
    good = JS.split("\n")[5:11]
    good = [row.replace("word", "token").replace("trimmed", "clean") for row in good]
    assert check_rename(JS, spec, facts, good)[1] is None
    bad = [row.replace("text", "body") for row in good]
    assert check_rename(JS, spec, facts, bad)[1] == "the rewrite no longer uses `text`"


FUNCTION = """def add_sizes(path, total):
    for dirpath, _, names in os.walk(path):
        for n in names:
            total = total + os.path.getsize(os.path.join(dirpath, n))
    return total"""


def _extract(function: str, call: str) -> tuple[str, str | None]:
    facts = _py_facts()
    return check_extract(PY, spec_by_name("python"), facts, _lines(function), _body(call), 3)


def test_an_extracted_function_above_the_enclosing_one_passes() -> None:
    new, failure = _extract(FUNCTION, "        total = add_sizes(path, total)")
    assert failure is None
    lines = new.split("\n")
    assert lines[3] == "def add_sizes(path, total):" and lines[8:11] == [
        "",
        "",
        "def total_size(path):",
    ]
    assert "    total = add_sizes(path, total)" in lines


@pytest.mark.parametrize(
    ("function", "call", "reason"),
    [
        (
            FUNCTION.replace("path, total", "total"),
            "        total = add_sizes(total)",
            "the new function reads `path` without taking it as a parameter",
        ),
        (
            FUNCTION,
            "        add_sizes(path, total)",
            "the call site no longer defines `total`, which later code uses",
        ),
        (
            FUNCTION,
            "        total = helper(path, total)",
            "the rewritten code does not call `add_sizes`",
        ),
        (
            FUNCTION.replace("add_sizes", "total_size"),
            "        total = total_size(path, total)",
            "the new function's name `total_size` is already in use",
        ),
        ("x = 1", "        total = x", "the rewrite has no new function before the call"),
        (
            FUNCTION.replace("names:", "names"),
            "        total = add_sizes(path, total)",
            "the rewrite does not parse",
        ),
    ],
)
def test_extractions_that_lose_a_name_or_a_parameter_are_refused(function, call, reason) -> None:
    assert _extract(function, call)[1] == reason


def test_only_the_changed_lines_are_edited() -> None:
    old = "a\nb\nc\nd\ne"
    assert line_changes(old, old) == []
    assert line_changes(old, "a\nB\nc\nd\ne") == [TextChange(1, 0, 2, 0, "B\n")]
    assert line_changes(old, "a\nb\nc\nd\nE") == [TextChange(4, 0, 4, 1, "E")]
    two = line_changes(old, "a\nB\nc\nd\ne\nf")
    assert two == [TextChange(1, 0, 2, 0, "B\n"), TextChange(4, 0, 4, 1, "e\nf")]
    assert line_changes(old, "a\nc\nd\ne") == [TextChange(1, 0, 2, 0, "")]


def test_the_edits_of_a_rewrite_rebuild_it() -> None:
    new, failure = check_rename(PY, spec_by_name("python"), _py_facts(), _body(RENAMED))
    assert failure is None
    changes = line_changes(PY, new)
    assert len(changes) == 1 and changes[0].start_line == 6 and changes[0].end_line == 10
    lines = PY.split("\n")
    rebuilt = "\n".join(lines[:6]) + "\n" + changes[0].new_text + "\n".join(lines[10:])
    assert rebuilt == new


def test_selections_are_whole_lines() -> None:
    assert selected_lines(PY, (6, 4), (6, 4)) is None
    assert selected_lines(PY, (6, 8), (10, 0)) == (6, 9)
    assert selected_lines(PY, (6, 8), (9, 3)) == (6, 9)
    assert selected_lines(PY, (1, 0), (2, 0)) is None  # a blank line


def test_offers_where_names_can_be_checked() -> None:
    service = RefactorService(None)  # type: ignore[arg-type]  # offers never touch the model
    spec = spec_by_name("python")
    assert [o.title for o in service.offers(PY, spec, (6, 0), (10, 0))] == [
        "Simplify",
        "Extract function",
        "Rename locals for clarity",
    ]
    # Only the return: nothing local to rename.
    assert [o.action for o in service.offers(PY, spec, (10, 0), (10, 16))] == [
        "simplify",
        "extract",
    ]
    assert service.offers(PY, spec, (6, 0), (6, 0)) == []
    assert service.offers("package main\n", spec_by_name("go"), (0, 0), (0, 7)) == []
    broken = PY.replace("names:", "names")
    assert service.offers(broken, spec, (6, 0), (10, 0)) == []


def test_a_chat_answer_is_verified_as_the_server_would() -> None:
    """The answer's first code block, re-indented to the selection, goes through the checks."""
    service = RefactorService(None)  # type: ignore[arg-type]  # verifying never touches the model
    spec = spec_by_name("python")
    simpler = answer_code(f"```python\n{textwrap.dedent(SIMPLER)}```", True, spec)
    assert service._verify(SIMPLIFY, PY, spec, _py_facts(), simpler)[1] is None
    dropped = textwrap.dedent(SIMPLER).replace("(path)", "(root)")
    failure = service._verify(SIMPLIFY, PY, spec, _py_facts(), dropped)[1]
    assert failure == "the rewrite no longer uses `path`"
    # A before/after prompt's answer ends at the next comment line after the code.
    raw = "    return total\n# Another task:\nx = 1\n"
    assert answer_code(raw, False, spec) == "    return total"


def test_the_context_a_model_repeats_is_dropped() -> None:
    lines = [
        "def is_adult(age):",
        "    if age >= 18:",
        "        return True",
        "    else:",
        "        return False",
        "print(is_adult(3))",
        "",
    ]
    whole = "def is_adult(age):\n    return age >= 18\n"
    assert without_context(whole, lines, 1, 4) == "    return age >= 18"
    repeated_after = "return age >= 18\n\nprint(is_adult(3))"
    assert without_context(repeated_after, lines, 1, 4) == "return age >= 18\n"
    alone = "return age >= 18"
    assert without_context(alone, lines, 1, 4) == alone
    assert without_context("def is_adult(age):", lines, 1, 4) == "def is_adult(age):"


def test_the_model_proposes_names_and_the_server_renames() -> None:
    spec = spec_by_name("python")
    facts = _py_facts()
    answer = "dirpath -> directory\nnames: file_names\n`n` → file_name\nfull = os\ntotal -> t"
    mapping = parse_renames(answer, spec, facts)
    # `os` is taken and `total` is read after the selection: neither pair is used.
    assert mapping == {"dirpath": "directory", "names": "file_names", "n": "file_name"}
    new = apply_renames(PY, spec, facts, mapping)
    assert check_rename(PY, spec, facts, new.split("\n")[6:10])[1] is None
    assert "for directory, _, file_names in os.walk(path):" in new
    assert "os.path.join(directory, file_name)" in new and "def total_size(path):" in new
    js = spec_by_name("javascript")
    keyed = "function f(xs) {\n  const mean = 1;\n  const out = { mean };\n  return out;\n}\n"
    facts = selection_facts(keyed, js, 1, 2)
    mapping = parse_renames("mean -> average", js, facts)
    assert apply_renames(keyed, js, facts, mapping) == keyed  # `{ mean }` is also a key


def test_a_rewrite_cut_after_a_colon_does_not_parse() -> None:
    cut = """
        for dirpath, _, names in os.walk(path):
            total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names)
        if total:
"""
    failure = check_rewrite(PY, spec_by_name("python"), _py_facts(), _body(cut))[1]
    assert failure == "the rewrite does not parse"
