"""Names the code below an empty line reads that nothing binds: the line must bind them.

Inside a Python function, a name that the next lines read but that is bound nowhere — not in the
function before it is read (parameters included), not anywhere else in the file (any mention outside the function
counts, to stay on the safe side), not in the other open documents, not a builtin — and that
appears nowhere above the cursor can only come from the line being written. The model often
ignores this (HumanEval: `ret = 1` masked above `for i in range(n): ret = (2 * ret) % p`, and it
answered `if n == 0:`). Completion ranks answers that bind these names first and, when no answer
binds them, asks for one that starts with the binding (`opening`): `ret`, `for s`, `def xor`.

Python only: its scoping makes "bound nowhere" a fact the parse can establish; in JavaScript a
name may be a global of the page or the test runner that no file declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile

import tree_sitter

from codecomp_lsp.context.indent import code_lines, leading_ws
from codecomp_lsp.context.names import (
    PY_BUILTINS,
    Role,
    function_scope,
    is_identifier,
    occurrences,
)
from codecomp_lsp.context.treesitter import node_text, walk

# Only names first read within this many lines below the cursor: what the line just above them
# must bind, not something missing further down.
HORIZON_LINES = 10
_STAR_IMPORT = re.compile(rb"(?m)^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\*")
_COMMENT = "#"


@dataclass(frozen=True)
class NeededNames:
    """What the empty line at the cursor must bind, in the order the code below reads them."""

    names: tuple[str, ...]
    opens_block: bool  # the next statement is indented deeper: the line is a block's header
    in_block: tuple[str, ...]  # names first read inside that block and only read (loop targets)
    called: tuple[str, ...]  # names called below (`xor(a, b)`): a function to define

    def opening(self) -> str | None:
        """How an answer that binds the names starts: an assignment for a statement (`ret =` →
        `ret = 1`; `a, b =` → `a, b = x.split("/")`), `def NAME(PARAMS` for a header whose name
        is called below (its block's names are the parameters), `for NAMES` for a header whose
        block reads them; None where no form fits."""
        if not self.opens_block:
            return ", ".join(self.names) + " ="
        if self.called:
            return f"def {self.called[0]}(" + ", ".join(self.in_block)
        if self.in_block:
            return "for " + ", ".join(self.in_block)
        return None


def _indent(line: str) -> int:
    return len(leading_ws(line))


def _code_lines_after(window: str, row_end: int) -> list[tuple[int, str]]:
    """(row offset from the cursor line, text) of the non-blank, non-comment lines among the
    next few below."""
    return list(
        takewhile(
            lambda found: found[0] <= HORIZON_LINES * 4,
            code_lines(window[row_end + 1 :], (_COMMENT,)),
        )
    )


def _captures(scope: tree_sitter.Node, data: bytes) -> set[str]:
    """Names a `case` pattern binds (the name table reads them as dotted paths, not bindings)."""
    if b"case" not in data[scope.start_byte : scope.end_byte]:
        return set()
    return {
        node_text(node)
        for node in walk(scope)
        if node.type == "identifier"
        and node.parent is not None
        and node.parent.type in ("dotted_name", "case_pattern", "as_pattern")
        and _under_case_pattern(node)
    }


def _under_case_pattern(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type not in ("block", "module"):
        if parent.type == "case_pattern":
            return True
        parent = parent.parent
    return False


def needed_names(
    tree: tree_sitter.Tree,
    window: str,
    offset: int,
    language: str | None,
    elsewhere: frozenset[str] = frozenset(),
) -> NeededNames | None:
    """The names the empty line at code-point `offset` of `window` (parsed as `tree`) must bind;
    None when there are none or the check does not apply. `elsewhere`: names the other open
    documents mention."""
    if language != "python":
        return None
    start = window.rfind("\n", 0, offset) + 1
    end = window.find("\n", offset)
    end = len(window) if end < 0 else end
    line = window[start:end]
    if line.strip():
        return None
    data = window.encode("utf-8", "surrogatepass")
    byte = len(window[:offset].encode("utf-8", "surrogatepass"))
    scope = function_scope(tree.root_node, byte, "python")
    if (
        scope is None
        or scope.end_byte <= byte
        or scope.has_error  # an unclosed bracket: the parse says nothing about what binds
        or _STAR_IMPORT.search(data)
    ):
        return None
    row = window.count("\n", 0, offset)
    below = _code_lines_after(window, end)
    if not below:
        return None
    depth = _indent(line)
    opens_block = _indent(below[0][1]) > depth
    block_end = row
    if opens_block:
        block_end = row + next((k for k, text in below if _indent(text) <= depth), 1 << 30) - 1

    seen: dict[str, list] = {}
    for occ in occurrences(scope, "python"):
        seen.setdefault(occ.name, []).append(occ)
    known = PY_BUILTINS | elsewhere | _captures(scope, data)
    outside = data[: scope.start_byte] + b"\n" + data[scope.end_byte :]
    found: list[tuple[int, int, str, bool, bool]] = []  # (row, byte, name, only read, called)
    for name, occs in seen.items():
        first = occs[0]
        if name in known or not is_identifier(name, "python"):
            continue
        if first.start < byte or first.node.start_point[0] > row + HORIZON_LINES:
            continue
        reads = [o.start for o in occs if o.role is not Role.BIND]
        binds = [o.at for o in occs if o.role is not Role.USE]
        if not reads or reads[0] >= min(binds, default=1 << 62):
            continue  # bound before it is read: `x = …` below defines it
        if re.search(rb"(?<![\w.])" + re.escape(name.encode()) + rb"(?!\w)", outside):
            continue
        called = any(
            o.node.parent is not None
            and o.node.parent.type == "call"
            and o.node.parent.child_by_field_name("function") == o.node
            for o in occs
        )
        only_read = all(o.role is Role.USE for o in occs)
        found.append((first.node.start_point[0], first.start, name, only_read, called))
    if not found:
        return None
    found.sort()
    return NeededNames(
        names=tuple(name for _, _, name, _, _ in found),
        opens_block=opens_block,
        in_block=tuple(n for r, _, n, read, c in found if read and not c and r <= block_end)
        if opens_block
        else (),
        called=tuple(name for _, _, name, _, called in found if called),
    )
