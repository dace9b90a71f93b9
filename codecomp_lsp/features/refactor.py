"""Refactor a selection with the model: Simplify, Extract function, Rename locals for clarity.

The selection is taken as whole lines. The model is asked in words (an instruction-tuned model's
chat template) or, without a template, with a before/after prompt in comments; its answer is the
first code block. Nothing it writes reaches the document unchecked: `refactor_check` parses the
result and compares the names it reads and defines with the selection's, and a rewrite that
fails is refused with one sentence saying which check failed. An accepted rewrite is sent as the
lines that differ, not as a replacement of the whole selection.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Callable

from codecomp_lsp.context.indent import leading_ws
from codecomp_lsp.context.languages import LanguageSpec
from codecomp_lsp.context.names import NAMED_LANGUAGES
from codecomp_lsp.context.parsed import parsed
from codecomp_lsp.context.syntax import errors_touch
from codecomp_lsp.engine.decoder import CacheSlot
from codecomp_lsp.engine.generation import Finish
from codecomp_lsp.features.action_text import first_code_block
from codecomp_lsp.features.actions import KIND_REWRITE, ActionOutcome, Offer
from codecomp_lsp.features.extract import build_extraction, function_name, plan_extraction
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.features.refactor_check import (
    Selection,
    check_extract,
    check_rename,
    check_rewrite,
    line_bytes,
    line_changes,
    selection_facts,
)
from codecomp_lsp.features.rename import apply_renames, parse_renames

__all__ = [
    "EXTRACT",
    "REFACTORS",
    "RENAME",
    "SIMPLIFY",
    "RefactorService",
    "answer_code",
    "selected_lines",
    "without_context",
]

SIMPLIFY, EXTRACT, RENAME = "simplify", "extract", "rename"
REFACTORS = (SIMPLIFY, EXTRACT, RENAME)
TITLES = {SIMPLIFY: "Simplify", EXTRACT: "Extract function", RENAME: "Rename locals for clarity"}
MAX_SELECTION_LINES = 80
CONTEXT_LINES = 30  # of the code around the selection, shown to a chat model
_SYSTEM = (
    "You are a careful refactoring assistant. You keep behaviour exactly the same and reply "
    "with code only, in one fenced code block."
)


def selected_lines(
    text: str, start: tuple[int, int], end: tuple[int, int]
) -> tuple[int, int] | None:
    """The whole lines a selection covers (one ending at column 0 stops before that line), or
    None for an empty or blank selection."""
    if start == end:
        return None
    first, last = start[0], end[0]
    if end[1] == 0 and last > first:
        last -= 1
    lines = text.split("\n")
    last = min(last, len(lines) - 1)
    if first > last or not any(lines[row].strip() for row in range(first, last + 1)):
        return None
    return first, last


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def answer_code(raw: str, chat: bool, spec: LanguageSpec) -> str:
    """The code of a model's answer: its first fenced block (chat), or the lines up to the next
    comment line (a before/after prompt)."""
    if chat:
        found = first_code_block(raw)
        return raw if found is None else found
    kept = []
    for line in raw.split("\n"):
        if line.lstrip().startswith(spec.line_comment) and any(k.strip() for k in kept):
            break
        kept.append(line)
    return "\n".join(kept)


def without_context(code: str, lines: list[str], first: int, last: int) -> str:
    """`code` without the lines around the selection that a model repeats with its answer: the
    enclosing `def` (and docstring) above it, the lines below it that were not selected."""
    rows = textwrap.dedent(code).strip("\n").split("\n")
    filled = [i for i, row in enumerate(rows) if row.strip()]
    said = [rows[i].strip() for i in filled]
    above = [line.strip() for line in lines[:first] if line.strip()]
    below = [line.strip() for line in lines[last + 1 :] if line.strip()]
    head = next(
        (k for k in range(min(len(above), len(said) - 1), 0, -1) if said[:k] == above[-k:]), 0
    )
    room = len(said) - head - 1
    tail = next((k for k in range(min(len(below), room), 0, -1) if said[-k:] == below[:k]), 0)
    if head == 0 and tail == 0:
        return code
    start = filled[head - 1] + 1 if head else 0
    end = filled[len(filled) - tail] if tail else len(rows)
    return "\n".join(rows[start:end])


def _selection_indent(lines: list[str], facts: Selection) -> str:
    rows = range(facts.first, facts.last + 1)
    return min((leading_ws(lines[r]) for r in rows if lines[r].strip()), key=len)


def _refused(action: str, failure: str) -> ActionOutcome:
    return ActionOutcome(None, f"{TITLES[action]}: {failure}; nothing was changed")


def _outcome(
    action: str, text: str, new: str, failure: str, why: str | None = None
) -> ActionOutcome:
    """The line edits from `text` to `new`, or the refusal with `failure` (when a check said
    `why`, or nothing changed)."""
    changes = line_changes(text, new) if why is None else []
    if not changes:
        return _refused(action, failure)
    return ActionOutcome(changes[0], None, tuple(changes[1:]))


def _indented(code: str, indent: str) -> list[str]:
    rows = textwrap.dedent(code).strip("\n").split("\n")
    return [(indent + row).rstrip() if row.strip() else "" for row in rows]


class RefactorService:
    """Offers (any thread) and runs (model thread) the three refactorings of a selection."""

    def __init__(self, io: ModelIO) -> None:
        self.io = io

    # -- any thread ---------------------------------------------------------------------------
    def offers(
        self,
        text: str,
        spec: LanguageSpec | None,
        start: tuple[int, int],
        end: tuple[int, int],
    ) -> list[Offer]:
        """The refactorings for a selection: only where names can be checked and the selected
        lines parse (a broken selection has no meaning to keep)."""
        if spec is None or spec.name not in NAMED_LANGUAGES:
            return []
        rows = selected_lines(text, start, end)
        if rows is None or rows[1] - rows[0] + 1 > MAX_SELECTION_LINES:
            return []
        if errors_touch(parsed(text, spec).tree, *rows):
            return []
        facts = selection_facts(text, spec, *rows, module=False)
        at = (rows[0], 0, rows[1], len(text.split("\n")[rows[1]]))
        renamable = any(n.strip("_") for n in facts.renamable)
        actions = [SIMPLIFY, EXTRACT] + ([RENAME] if renamable else [])
        return [Offer(a, TITLES[a], KIND_REWRITE, *at) for a in actions]

    # -- model thread -------------------------------------------------------------------------
    def run(
        self,
        offer: Offer,
        text: str,
        spec: LanguageSpec,
        *,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
        report: Callable[[str], None] | None = None,
    ) -> ActionOutcome:
        """The checked rewrite as line edits, or no edit and the check that failed."""
        rows = selected_lines(
            text, (offer.line, offer.character), (offer.end_line, offer.end_character)
        )
        if rows is None or spec.name not in NAMED_LANGUAGES:
            return ActionOutcome(None, "there is no selection to refactor")
        facts = selection_facts(text, spec, *rows)
        (report or (lambda message: None))(f"{TITLES[offer.action].lower()}: asking the model")
        if offer.action == EXTRACT:
            return self._extract(text, spec, facts, cancel, deadline)
        if offer.action == RENAME:
            return self._rename(text, spec, facts, cancel, deadline)
        answers = self._ask(offer.action, text, spec, facts, cancel, deadline)
        failure: str | None = None  # the first candidate's reason is the one told
        for raw, finish in answers:
            if finish is not Finish.STOP and (not self.io.chat or raw.count("```") < 2):
                failure = failure or "the model's answer was cut short"
                continue
            code = answer_code(raw, self.io.chat, spec)
            if not code.strip():
                continue
            if self.io.filter_output(code) is None:
                failure = failure or "the rewrite looks like it carries a secret"
                continue
            new, why = self._verify(offer.action, text, spec, facts, code)
            changes = line_changes(text, new) if why is None else []
            if changes:
                return ActionOutcome(changes[0], None, tuple(changes[1:]))
            failure = failure or why or "the model left the code as it was"
        failure = failure or "the model wrote no code"
        return _refused(offer.action, failure)

    def _verify(
        self, action: str, text: str, spec: LanguageSpec, facts: Selection, code: str
    ) -> tuple[str, str | None]:
        lines = text.split("\n")
        indent = _selection_indent(lines, facts)
        if action != SIMPLIFY:
            raise ValueError(f"not a rewrite: {action}")
        code = without_context(code, lines, facts.first, facts.last)
        return check_rewrite(text, spec, facts, _indented(code, indent))

    def _rename(
        self,
        text: str,
        spec: LanguageSpec,
        facts: Selection,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> ActionOutcome:
        """The model proposes names (`features/rename.py`), the server renames, checked."""
        local = sorted(n for n in facts.renamable if n.strip("_")) or ["_"]  # `_` is thrown away
        lines = text.split("\n")
        selection = textwrap.dedent("\n".join(lines[facts.first : facts.last + 1])).strip("\n")
        listed = ", ".join(f"`{n}`" for n in local)
        prefix = f"{local[0]} ->"  # the answer is started for the model: the form is shown
        if self.io.chat:
            question = (
                f"Suggest clearer, descriptive names for the local variables {listed} of this "
                f"{spec.name} code. Reply with one line per variable in the form "
                f"`variable -> new_name`, nothing else.\n\n```{spec.name}\n{selection}\n```"
            )
            ids = self.io.chat_ids(question, "You name variables well. Reply with the pairs.")
        else:
            c = spec.line_comment
            ids = self.io.text_ids(f"{selection}\n\n{c} Clearer names for its local variables:\n")
        ids = ids + self.io.text_ids(prefix)
        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=16 + 12 * len(local),
            candidates=1,
            stop_check=None,
            cancel=cancel,
            deadline=deadline,
        )
        answer = result.candidates[0].text if result.candidates else ""
        answer = prefix + answer.replace(spec.line_comment, "\n")
        mapping = parse_renames(answer, spec, facts)
        if not mapping:
            return _refused(RENAME, "the model proposed no usable new names")
        new = apply_renames(text, spec, facts, mapping)
        why = check_rename(text, spec, facts, new.split("\n")[facts.first : facts.last + 1])[1]
        return _outcome(RENAME, text, new, why or "the model proposed no usable new names", why)

    def _extract(
        self,
        text: str,
        spec: LanguageSpec,
        facts: Selection,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> ActionOutcome:
        """Built here (`features/extract.py`), named by the model, checked like a rewrite."""
        plan = plan_extraction(text, spec, facts)
        if isinstance(plan, str):
            return _refused(EXTRACT, plan)
        answer = self._name(spec, facts, text, cancel, deadline)
        name = function_name(answer, spec, facts.module_names | facts.scope_locals)
        function, call = build_extraction(text, spec, facts, plan, name)
        indent = _selection_indent(text.split("\n"), facts)
        at = self._top_level_row(text, spec, facts)
        new, why = check_extract(text, spec, facts, function, [indent + row for row in call], at)
        return _outcome(EXTRACT, text, new, why or "the extraction changed nothing", why)

    def _name(
        self,
        spec: LanguageSpec,
        facts: Selection,
        text: str,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> str:
        """The model's name for a function made of the selection (a few tokens)."""
        lines = text.split("\n")
        selection = textwrap.dedent("\n".join(lines[facts.first : facts.last + 1])).strip("\n")
        style = "snake_case" if spec.name == "python" else "camelCase"
        if self.io.chat:
            question = (
                f"This {spec.name} code is being moved into a new function of its own. Reply "
                f"with only a clear, short {style} name for that function, nothing else.\n\n"
                f"```{spec.name}\n{selection}\n```"
            )
            ids = self.io.chat_ids(question, "You name functions well. Reply with one name.")
        else:
            head = "def " if spec.name == "python" else "function "
            c = spec.line_comment
            ids = self.io.text_ids(f"{c} This code, moved into a function:\n{selection}\n\n{head}")
        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=12,
            candidates=1,
            stop_check=lambda generated: "\n" in generated or "(" in generated,
            cancel=cancel,
            deadline=deadline,
        )
        return result.candidates[0].text if result.candidates else ""

    @staticmethod
    def _top_level_row(text: str, spec: LanguageSpec, facts: Selection) -> int:
        """The line above which a new top-level function goes: the start of the top-level
        statement (the enclosing function or class) the selection is in."""
        root = parsed(text, spec).tree.root_node
        start, _ = line_bytes(text.encode("utf-8", "surrogatepass"), facts.first, facts.first)
        for child in root.children:
            if child.end_byte > start:
                return min(child.start_point.row, facts.first)
        return facts.first

    # -- prompts ------------------------------------------------------------------------------
    def _ask(
        self,
        action: str,
        text: str,
        spec: LanguageSpec,
        facts: Selection,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> list[tuple[str, Finish]]:
        lines = text.split("\n")
        selection = textwrap.dedent("\n".join(lines[facts.first : facts.last + 1]))
        if self.io.chat:
            ids = self.io.chat_ids(self._question(action, text, spec, facts, selection), _SYSTEM)

            def stop(generated: str) -> bool:
                return generated.count("```") >= 2
        else:
            ids = self.io.text_ids(self._before_after(action, spec, selection))

            def stop(generated: str) -> bool:
                rows = generated.split("\n")
                code = [r for r in rows[:-1] if r.strip()]
                return bool(code) and rows[-2].lstrip().startswith(spec.line_comment)

        settings = self.io.settings()
        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=settings.codeActionMaxNewTokens,
            candidates=settings.candidates,
            stop_check=stop,
            cancel=cancel,
            deadline=deadline,
        )
        return [(c.text, c.finish) for c in result.candidates]

    def _question(
        self, action: str, text: str, spec: LanguageSpec, facts: Selection, selection: str
    ) -> str:
        lang = spec.name
        free, outside = list(facts.names.free), list(facts.outside)
        keep = []
        if free:
            keep.append(f"It must still use {_quoted(free)} from the surrounding code.")
        if outside:
            keep.append(f"It must still define {_quoted(outside)}, which later code uses.")
        task = f"Simplify this {lang} code: make it shorter and clearer, same behaviour."
        keep_text = " ".join(keep)
        context = ""
        lines = text.split("\n")
        around = lines[max(0, facts.first - CONTEXT_LINES) : facts.last + 1 + CONTEXT_LINES]
        if len(around) > facts.last - facts.first + 1:
            shown = "\n".join(around)
            context = f"The code around it, for context:\n```{lang}\n{shown}\n```\n\n"
        return (
            f"{task} {keep_text}\nReply with only the code, in one ```{lang} block.\n\n"
            f"{context}The code:\n```{lang}\n{selection}\n```"
        )

    @staticmethod
    def _before_after(action: str, spec: LanguageSpec, selection: str) -> str:
        c = spec.line_comment
        what = {
            SIMPLIFY: "the same code, simplified",
        }[action]
        return f"{c} {spec.name} code:\n{selection}\n\n{c} After the refactoring: {what}.\n"
