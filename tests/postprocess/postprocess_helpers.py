"""Build a CursorContext from a source snippet with a cursor marker, as the context layer would."""

from __future__ import annotations

import re
import textwrap

from codecomp_lsp.context.types import CursorContext

CURSOR = "█"


def make_ctx(
    source: str,
    language: str | None,
    *,
    multiline: bool = False,
    block_indent: str | None = None,
    before_start_line: int = 0,
) -> CursorContext:
    """A context for `source` (dedented) with the cursor at the single `█`."""
    text = textwrap.dedent(source)
    text = text.removeprefix("\n")
    head, tail = text.split(CURSOR)
    *above, line_prefix = head.split("\n")
    line_suffix, _, after = tail.partition("\n")
    line = before_start_line + len(above)
    match = re.match(r"[ \t]*", line_prefix)
    return CursorContext(
        language=language,
        before="".join(f"{row}\n" for row in above),
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        after=after,
        line=line,
        character=len(line_prefix),
        before_start_line=before_start_line,
        after_end_line=line + 1 + after.count("\n"),
        multiline=multiline,
        indent=match.group(0) if match else "",
        block_indent=block_indent,
    )


def document(source: str) -> tuple[str, int]:
    """The dedented source without its cursor marker, and the marker's offset."""
    text = textwrap.dedent(source)
    text = text.removeprefix("\n")
    offset = text.index(CURSOR)
    return text.replace(CURSOR, ""), offset
