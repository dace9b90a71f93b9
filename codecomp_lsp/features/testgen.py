"""Generate unit tests for the function or class at the cursor, with the model.

`testgen_plan` decides the framework, the test file and its header (the imports of the code
under test); the model is given that header as the start of its answer and writes the tests. An
answer cut at the token cap loses its unfinished last test; what is left must parse in the test
file's language and hold at least one test, or nothing is written. With `runGeneratedTests`
(Python) the tests run in a temporary copy first and only the passing ones are kept. The result
is a new test file (or the tests appended to the existing one; for Rust, to the document).
"""

from __future__ import annotations

import re
import threading

from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.symbols import enclosing_symbol
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.engine.decoder import CacheSlot
from codecomp_lsp.engine.generation import Finish
from codecomp_lsp.features.actions import ActionOutcome, NewDocument, Offer
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.features.testgen_plan import TEST_LANGUAGES, TestPlan, path_of, plan_tests
from codecomp_lsp.features.testrun import drop_tests, run_python_tests

__all__ = ["GENERATE_TESTS", "KIND_TESTS", "TestGenService", "count_tests"]

GENERATE_TESTS = "tests"  # an offer's action is "tests:<name>"
KIND_TESTS = "refactor.rewrite.tests"
_KINDS = frozenset({"function", "method", "class", "struct"})
_TEST_START = {
    "pytest": r"^def test_\w+",
    "unittest": r"^    def test_\w+",
    "node:test": r"^(test|it|describe)\(",
    "jest": r"^(test|it|describe)\(",
    "vitest": r"^(test|it|describe)\(",
    "go": r"^func Test\w+",
    "rust": r"^    #\[test\]",
}
_SYSTEM = (
    "You write focused, correct unit tests. Each test checks one behaviour with concrete "
    "expected values you are sure of. You reply with code only."
)


def count_tests(text: str, framework: str) -> int:
    return len(re.findall(_TEST_START[framework], text, re.M))


def _complete_tests(body: str, framework: str) -> str:
    """`body` without its last test, which an answer cut at the token cap left unfinished."""
    starts = [m.start() for m in re.finditer(_TEST_START[framework], body, re.M)]
    return body[: starts[-1]].rstrip() + "\n" if len(starts) > 1 else ""


class TestGenService:
    __test__ = False  # not a pytest test class

    def __init__(self, io: ModelIO) -> None:
        self.io = io

    def offers(
        self, uri: str, text: str, spec: LanguageSpec | None, start: tuple[int, int]
    ) -> list[Offer]:
        if spec is None or spec.name not in TEST_LANGUAGES:
            return []
        symbol = enclosing_symbol(text, spec, start[0], start[1], uri=uri, kinds=_KINDS)
        if symbol is None or symbol.local:
            return []
        name = symbol.container if symbol.kind == "method" and symbol.container else symbol.name
        at = symbol.name_span[:2]
        return [
            Offer(f"{GENERATE_TESTS}:{name}", f"Generate tests for `{name}`", KIND_TESTS, *at, *at)
        ]

    def run(
        self,
        offer: Offer,
        uri: str,
        text: str,
        spec: LanguageSpec,
        *,
        open_texts: dict[str, str],
        run_tests: bool = False,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> ActionOutcome:
        name = offer.action.partition(":")[2]
        title = offer.title
        plan = plan_tests(uri, text, spec.name, name, set(open_texts))
        if isinstance(plan, str):
            return ActionOutcome(None, f"{title}: {plan}; nothing was written")
        symbol = enclosing_symbol(text, spec, offer.line, offer.character, uri=uri, kinds=_KINDS)
        lines = text.split("\n")
        code = "\n".join(lines[symbol.top_line : symbol.span[2] + 1]) if symbol else text
        body, cut = self._ask(plan, spec, name, code, cancel, deadline)
        if cut:
            body = _complete_tests(body, plan.framework)
        tests = plan.header + body.rstrip() + "\n" + plan.footer
        checked = text.rstrip("\n") + "\n" + tests if plan.language == "rust" else tests
        target = spec_by_name(plan.language)
        if not body.strip() or count_tests(body, plan.framework) == 0:
            return ActionOutcome(
                None, f"{title}: the model wrote no complete test; nothing was written"
            )
        if self.io.filter_output(body) is None:
            return ActionOutcome(
                None, f"{title}: the tests look like they carry a secret; nothing was written"
            )
        if target is None or count_errors(checked, target) > count_errors(
            text if plan.language == "rust" else "", target
        ):
            return ActionOutcome(None, f"{title}: the tests do not parse; nothing was written")
        note = f"{count_tests(body, plan.framework)} {plan.framework} tests"
        if run_tests and plan.language == "python":
            tests, note, failure = self._keep_passing(uri, text, plan, tests)
            if failure:
                return ActionOutcome(None, f"{title}: {failure}; nothing was written")
        return ActionOutcome(
            None, f"{title}: {note}", document=self._document(plan, tests, open_texts)
        )

    def _ask(
        self,
        plan: TestPlan,
        spec: LanguageSpec,
        name: str,
        code: str,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> tuple[str, bool]:
        """The tests the model writes after the header, and whether the answer was cut."""
        lang = plan.language
        opened = f"```{lang}\n{plan.header}{plan.start}"
        if self.io.chat:
            question = (
                f"Write {plan.framework} unit tests for `{name}`, defined below. Write 3 to 6 "
                "short tests of what it does, edge cases included, with expected values that "
                "follow from its code and documentation. Reply with the whole test file in one "
                f"code block; it starts with:\n```{lang}\n{plan.header}```\n\n"
                f"```{spec.name}\n{code}\n```"
            )
            ids = self.io.chat_ids(question, _SYSTEM) + self.io.text_ids(opened)
        else:
            c = spec.line_comment
            ids = self.io.text_ids(f"{c} {spec.name}\n{code}\n\n{c} Its unit tests:\n{opened}")
        settings = self.io.settings()
        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=max(settings.codeActionMaxNewTokens, 512),
            candidates=1,
            stop_check=lambda generated: "```" in generated,
            cancel=cancel,
            deadline=deadline,
        )
        if not result.candidates:
            return "", True
        answer = result.candidates[0]
        body = plan.start + answer.text.split("```", 1)[0]
        return body, answer.finish is not Finish.STOP and "```" not in answer.text

    def _keep_passing(self, uri: str, text: str, plan: TestPlan, tests: str):
        module = uri.rsplit("/", 1)[-1]
        test_name = plan.uri.rsplit("/", 1)[-1]
        ran = run_python_tests(module, text, test_name, tests, plan.framework)
        if ran.error:
            return tests, "", f"the tests did not run ({ran.error})"
        if not ran.passed:
            return tests, "", f"none of the {len(ran.failed)} generated tests passed"
        kept = drop_tests(tests, set(ran.failed)) if ran.failed else tests
        return (
            kept,
            f"{len(ran.passed)} passing tests kept, {len(ran.failed)} failing dropped",
            None,
        )

    @staticmethod
    def _document(plan: TestPlan, tests: str, open_texts: dict[str, str]) -> NewDocument:
        if not plan.exists:
            return NewDocument(plan.uri, tests, plan.language)
        existing = open_texts.get(plan.uri)
        if existing is None:
            path = path_of(plan.uri)
            existing = path.read_text("utf-8") if path and path.is_file() else ""
        rows = existing.split("\n")
        end = (len(rows) - 1, len(rows[-1]))
        lead = "" if existing.endswith("\n") or not existing else "\n"
        if plan.language == "rust":  # the test module, whole, at the end of the document
            return NewDocument(plan.uri, lead + tests, plan.language, insert_at=end)
        gap = "\n\n" if plan.language == "python" else "\n"
        header = plan.header.split("\n")
        new_header = [row for row in header if row.strip() and row not in existing]
        parts = (["\n".join(new_header)] if new_header else []) + [tests[len(plan.header) :]]
        added = (gap + "\n").join(part.strip("\n") for part in parts) + "\n"
        return NewDocument(plan.uri, lead + gap + added, plan.language, insert_at=end)
