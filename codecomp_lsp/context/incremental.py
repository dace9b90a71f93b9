"""Incremental reparsing: the tree of a new text from the tree of the previous one.

The edit between two versions is found from the texts themselves (no trust in what the client
said changed): the common prefix and suffix of the two UTF-8 encodings, found by comparing
slices (memcmp) with a galloping search and a bisection, so a keystroke in a 200 KB document
costs a few tens of microseconds. tree-sitter then reuses every subtree the edit did not touch.

Trees passed in are never modified (they may be shared between threads): the edit is applied to
a copy, which costs almost nothing since tree-sitter subtrees are reference-counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter

from codecomp_lsp.context.languages import LanguageSpec

__all__ = ["ByteEdit", "byte_edit", "insertion_edit", "point_at", "reparse"]

_BLOCK = 4096  # first slice compared by the galloping search, doubled on each equal block
# An edit that changes more than this share of the text parses from scratch: the old tree
# would save little, and a shifted window is a different text, not an edited one.
_FRESH_SHARE = 0.5


@dataclass(frozen=True)
class ByteEdit:
    """One replaced byte range, in tree-sitter's terms (byte offsets, (row, byte column) points)."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]

    def apply(self, tree: tree_sitter.Tree) -> None:
        tree.edit(
            start_byte=self.start_byte,
            old_end_byte=self.old_end_byte,
            new_end_byte=self.new_end_byte,
            start_point=self.start_point,
            old_end_point=self.old_end_point,
            new_end_point=self.new_end_point,
        )


def _is_continuation(data: bytes, index: int) -> bool:
    return index < len(data) and 0x80 <= data[index] < 0xC0


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of `a` and `b`."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    # a[:lo] == b[:lo] and a[lo:hi] != b[lo:hi] throughout.
    lo, step = 0, _BLOCK
    while lo + step < n and a[lo : lo + step] == b[lo : lo + step]:
        lo += step
        step *= 2
    hi = min(lo + step, n)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the longest common suffix of `a` and `b`, at most `limit`."""
    la, lb = len(a), len(b)
    limit = max(0, min(limit, la, lb))
    if a[la - limit :] == b[lb - limit :]:
        return limit
    # The last `lo` bytes are equal; the last `hi` are not.
    lo, step = 0, _BLOCK
    while lo + step < limit and a[la - lo - step : la - lo] == b[lb - lo - step : lb - lo]:
        lo += step
        step *= 2
    hi = min(lo + step, limit)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid
    return lo


def point_at(data: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of byte `offset`."""
    return data.count(b"\n", 0, offset), offset - data.rfind(b"\n", 0, offset) - 1


def _end_point(start: tuple[int, int], data: bytes, begin: int, end: int) -> tuple[int, int]:
    """The point of byte `end` given the point `start` of byte `begin` (begin <= end)."""
    rows = data.count(b"\n", begin, end)
    if rows == 0:
        return start[0], start[1] + end - begin
    return start[0] + rows, end - data.rfind(b"\n", begin, end) - 1


def byte_edit(old: bytes, new: bytes) -> ByteEdit | None:
    """The single replacement that turns `old` into `new` (None: they are equal)."""
    prefix = common_prefix(old, new)
    if prefix == len(old) == len(new):
        return None
    while prefix > 0 and (_is_continuation(old, prefix) or _is_continuation(new, prefix)):
        prefix -= 1  # start on a character boundary
    suffix = common_suffix(old, new, min(len(old), len(new)) - prefix)
    while suffix > 0 and _is_continuation(old, len(old) - suffix):
        suffix -= 1
    old_end, new_end = len(old) - suffix, len(new) - suffix
    start = point_at(old, prefix)
    return ByteEdit(
        prefix,
        old_end,
        new_end,
        start,
        _end_point(start, old, prefix, old_end),
        _end_point(start, new, prefix, new_end),
    )


def insertion_edit(data: bytes, at: int, inserted: bytes) -> ByteEdit:
    """The edit inserting `inserted` at byte `at` of `data`."""
    start = point_at(data, at)
    return ByteEdit(
        at, at, at + len(inserted), start, start, _end_point(start, inserted, 0, len(inserted))
    )


def reparse(
    old: bytes,
    old_tree: tree_sitter.Tree,
    new: bytes,
    spec: LanguageSpec,
    edit: ByteEdit | None = None,
) -> tree_sitter.Tree:
    """The parse of `new`, reusing `old_tree` (the parse of `old`, left untouched).

    `edit`, when known (an insertion at the cursor), saves looking for it. An edit that
    replaces most of the text parses from scratch.
    """
    if edit is None:
        edit = byte_edit(old, new)
        if edit is None:
            return old_tree
    parser = spec.parser()
    changed = max(edit.old_end_byte, edit.new_end_byte) - edit.start_byte
    if changed > _FRESH_SHARE * max(len(new), 1):
        tree = parser.parse(new)
    else:
        base = old_tree.copy()
        edit.apply(base)
        tree = parser.parse(new, base)
    if tree is None:  # only with a timeout or no language, neither of which we set
        raise RuntimeError(f"tree-sitter failed to parse {spec.name} text")
    return tree
