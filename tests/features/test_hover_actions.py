"""Hover text and explanations, and the code actions' offers and edits, with a scripted model."""

from __future__ import annotations

import random
import string

import pytest

from codecomp_lsp.context.languages import LanguageSpec, spec_by_name
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.features.action_text import doc_comment, python_docstring
from codecomp_lsp.features.actions import (
    BODY,
    COMMENT,
    DOCSTRING,
    EXPLAIN,
    ActionService,
)
from codecomp_lsp.features.hover import HoverService, clean_explanation, render_hover
from codecomp_lsp.features.modelio import TextChange, point_to_offset
from tests.features.scripted import ScriptedIO


def _spec(name: str) -> LanguageSpec:
    spec = spec_by_name(name)
    assert spec is not None
    return spec


def apply(text: str, change: TextChange) -> str:
    start = point_to_offset(text, change.start_line, change.start_col)
    end = point_to_offset(text, change.end_line, change.end_col)
    return text[:start] + change.new_text + text[end:]


UTILS = '''def slugify(title):
    """Lower-case words joined by dashes."""
    return "-".join(title.lower().split())
'''
MAIN = "from utils import slugify\n\nname = slugify('Hello World')\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Return the sum of a and b.\n    More.", "Return the sum of a and b. More."),
        ('Adds two numbers."""\n    return a', "Adds two numbers."),
        ("// Greets people */", "Greets people"),
        ("First paragraph.\n\nSecond paragraph.", "First paragraph."),
        ("Stop at a marker<|cc_file_sep|>junk", "Stop at a marker"),
        ("if self. self. self. self. self. self. self.", None),
        ("()[]{};", None),
        ("x" * 10 + " " + "word " * 100, None),
        # Code written where prose was asked for (seen from the shipped tiny model) is refused.
        ('return f"{path}{path}', None),
        ("if not isinstance(os.path.exists(os.path.join(os.path.join(", None),
        ("self.value = self.value", None),
        ("result = []", None),
        (
            "The `sum` function takes an array of numbers (xs) and returns their total.",
            "The `sum` function takes an array of numbers (xs) and returns their total.",
        ),
        (
            "Returns the paths of all files under root.",
            "Returns the paths of all files under root.",
        ),
    ],
)
def test_clean_explanation(raw: str, expected: str | None) -> None:
    cleaned = clean_explanation(raw)
    if expected is None:
        assert cleaned is None or cleaned.endswith("…")
    else:
        assert cleaned == expected


def test_long_explanations_are_cut_at_a_word() -> None:
    cleaned = clean_explanation(" ".join(f"word{i}" for i in range(200)))
    assert cleaned is not None and cleaned.endswith("…") and len(cleaned) <= 320


def test_locate_across_documents_and_render_both_formats() -> None:
    service = HoverService(ScriptedIO([]))
    spec = _spec("python")
    request = service.locate(
        "file:///p/main.py",
        MAIN,
        spec,
        2,
        9,
        [("file:///p/utils.py", UTILS, spec)],
    )
    assert request is not None
    assert request.where == "utils.py:1"
    assert request.source == UTILS.rstrip("\n")
    markdown = render_hover(request, "Makes a slug.", markdown=True)
    assert markdown.startswith("```python\ndef slugify(title):\n```")
    assert "*(function) slugify — defined in utils.py:1*" in markdown
    assert "Lower-case words joined by dashes." in markdown
    assert markdown.endswith("---\n**codecomp:** Makes a slug.")
    plain = render_hover(request, None, markdown=False)
    assert plain.split("\n\n") == [
        "(function) slugify — defined in utils.py:1",
        "def slugify(title):",
        "Lower-case words joined by dashes.",
    ]


def test_fim_explanation_writes_the_docstring_of_the_definition() -> None:
    io = ScriptedIO([' Turn a title into a URL slug."""\n'])
    service = HoverService(io)
    spec = _spec("python")
    request = service.locate("file:///p/utils.py", UTILS, spec, 0, 5)
    assert request is not None
    text = service.explain(request, deadline=None)
    assert text == "Turn a title into a URL slug."
    prompt_text, line, character = io.prompts[0]
    rows = prompt_text.split("\n")
    # Header, then the opened docstring slot; the existing docstring is not in the prompt.
    assert rows[0] == "def slugify(title):"
    assert rows[1] == '    """"""' and (line, character) == (1, 7)
    assert "Lower-case" not in prompt_text
    assert io.kwargs["max_new_tokens"] == 48
    stop = io.kwargs["stop_check"]
    assert stop('Slug."""') and not stop("Slug of")


def test_fim_explanation_in_a_brace_language_opens_a_comment_in_the_body() -> None:
    io = ScriptedIO(["adds two numbers\n"])
    service = HoverService(io)
    text = "function add(a, b) {\n  return a + b;\n}\n"
    request = service.locate("file:///a.js", text, _spec("javascript"), 0, 10)
    assert request is not None
    assert service.explain(request, deadline=None) == "adds two numbers"
    prompt_text, line, character = io.prompts[0]
    assert prompt_text.split("\n")[1] == "  // " and (line, character) == (1, 5)


def test_chat_models_are_asked_in_words() -> None:
    io = ScriptedIO(["It converts a title into a slug."], chat=True)
    service = HoverService(io)
    request = service.locate("file:///p/utils.py", UTILS, _spec("python"), 0, 5)
    assert request is not None
    assert service.explain(request, deadline=None) == "It converts a title into a slug."
    kind, question = io.prompts[0]
    assert kind == "chat"
    # The tokenizer's chat template rendered the turns: system, the question, the answer's start.
    assert question.startswith("<|im_start|>system\nYou are a concise programming assistant.")
    assert question.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert "explain what the python function `slugify` does" in question
    assert "def slugify(title):" in question


def test_an_explanation_carrying_a_secret_is_suppressed() -> None:
    key = "AKIA" + "".join(random.Random(1).choice(string.ascii_uppercase) for _ in range(16))
    io = ScriptedIO([f"Uses key {key} for uploads."])
    service = HoverService(io)
    request = service.locate("file:///p/utils.py", UTILS, _spec("python"), 0, 5)
    assert request is not None
    assert service.explain(request, deadline=None) is None
    assert io.engine.stats.snapshot()["suppressedSecrets"] == 1


def test_no_time_left_means_no_model_call() -> None:
    io = ScriptedIO(["never"])
    service = HoverService(io)
    request = service.locate("file:///p/utils.py", UTILS, _spec("python"), 0, 5)
    assert request is not None
    assert service.explain(request, deadline=0.0) is None
    assert io.calls == 0


# -- code actions -----------------------------------------------------------------------------

PY = '''import os


def undocumented(path):
    return os.path.basename(path)


def documented():
    """Has one."""
    return 1


def stub(items):
    """Sum the items."""
    pass


# return the number of files in the current directory
value = 1
text = "# not a comment"
'''


def _offers(text: str, language: str, start: tuple[int, int], end: tuple[int, int] | None = None):
    service = ActionService(ScriptedIO([]), HoverService(ScriptedIO([])))
    return service.offers("file:///x", text, _spec(language), start, end or start)


def test_offers_follow_the_code() -> None:
    assert [o.action for o in _offers(PY, "python", (4, 6))] == [DOCSTRING]
    assert _offers(PY, "python", (9, 6)) == []  # documented, has a body
    assert [o.action for o in _offers(PY, "python", (14, 4))] == [BODY]
    assert [o.action for o in _offers(PY, "python", (17, 3))] == [COMMENT]
    assert _offers(PY, "python", (19, 9)) == []  # a "#" inside a string
    selection = _offers(PY, "python", (4, 4), (4, 20))
    assert [o.action for o in selection] == [DOCSTRING, EXPLAIN]
    assert selection[1].title == "Explain this code"
    assert selection[0].title == "Generate docstring for `undocumented`"


@pytest.mark.parametrize(
    ("language", "text", "at"),
    [
        ("javascript", "function later(a) {}\n", (0, 10)),
        ("typescript", "function later(a: number): void {\n  // TODO\n}\n", (0, 10)),
        ("go", "package main\n\nfunc later(a int) {\n}\n", (2, 6)),
        ("rust", "fn later(a: i32) -> i32 {\n    todo!()\n}\n", (0, 4)),
        ("java", "class A {\n    int later(int a) {\n    }\n}\n", (1, 9)),
        ("c", "int later(int a) {\n}\n", (0, 5)),
        ("cpp", "int later(int a) { }\n", (0, 5)),
    ],
)
def test_empty_bodies_in_brace_languages_offer_a_body_and_a_docstring(
    language: str, text: str, at: tuple[int, int]
) -> None:
    actions = [o.action for o in _offers(text, language, at)]
    assert BODY in actions and DOCSTRING in actions


def test_complete_the_body_with_a_parsing_candidate() -> None:
    io = ScriptedIO(["return sum(items) +", "return sum(items)\n"])
    service = ActionService(io, HoverService(io))
    (offer,) = [o for o in _offers(PY, "python", (14, 4)) if o.action == BODY]
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is not None
    fixed = apply(PY, outcome.change)
    assert count_errors(fixed, _spec("python")) == 0
    assert '    """Sum the items."""\n    return sum(items)\n' in fixed
    assert "pass" not in fixed.split("def stub")[1].split("# return")[0]


def test_complete_a_brace_body() -> None:
    text = "function total(items) {}\n"
    io = ScriptedIO(["return items.length;\n}"])
    service = ActionService(io, HoverService(io))
    (offer,) = [o for o in _offers(text, "javascript", (0, 10)) if o.action == BODY]
    outcome = service.run(offer, "file:///x.js", text, _spec("javascript"))
    assert outcome.change is not None
    fixed = apply(text, outcome.change)
    assert fixed == "function total(items) {\n    return items.length;\n}\n"


def test_code_from_a_comment_goes_below_it() -> None:
    io = ScriptedIO(["count = len(os.listdir('.'))\n"])
    service = ActionService(io, HoverService(io))
    (offer,) = _offers(PY, "python", (17, 3))
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is not None
    fixed = apply(PY, outcome.change)
    assert (
        "# return the number of files in the current directory\n"
        "count = len(os.listdir('.'))\nvalue = 1\n"
    ) in fixed


def test_generated_code_that_does_not_parse_is_not_inserted() -> None:
    io = ScriptedIO(["return (items", "return [items"])
    service = ActionService(io, HoverService(io))
    (offer,) = [o for o in _offers(PY, "python", (14, 4)) if o.action == BODY]
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is None
    assert outcome.message == "the model wrote no body that parses"


def test_generate_docstring_python_and_brace_styles() -> None:
    io = ScriptedIO([' Return the file name of path."""'])
    service = ActionService(io, HoverService(io))
    (offer,) = _offers(PY, "python", (4, 6))
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is not None and outcome.message is None
    fixed = apply(PY, outcome.change)
    assert 'def undocumented(path):\n    """Return the file name of path."""\n    return' in fixed

    text = "export function add(a, b) {\n  return a + b;\n}\n"
    io = ScriptedIO(["adds two numbers\n"])
    service = ActionService(io, HoverService(io))
    offer = next(o for o in _offers(text, "javascript", (0, 17)) if o.action == DOCSTRING)
    outcome = service.run(offer, "file:///a.js", text, _spec("javascript"))
    assert outcome.change is not None
    assert apply(text, outcome.change).startswith("/** adds two numbers */\nexport function add")


def test_a_docstring_placeholder_when_the_model_writes_nothing_usable() -> None:
    io = ScriptedIO(["((("])
    service = ActionService(io, HoverService(io))
    (offer,) = _offers(PY, "python", (4, 6))
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is not None
    assert '"""TODO: describe undocumented."""' in apply(PY, outcome.change)
    assert outcome.message and "placeholder" in outcome.message


def test_explain_a_selection() -> None:
    io = ScriptedIO(["Returns the last part of the path.\n"])
    service = ActionService(io, HoverService(io))
    offer = _offers(PY, "python", (4, 4), (4, 33))[-1]
    outcome = service.run(offer, "file:///x", PY, _spec("python"))
    assert outcome.change is None
    assert outcome.message == "Returns the last part of the path."
    prompt_text, line, _ = io.prompts[0]
    assert prompt_text.split("\n")[line] == "    # "


def test_docstring_formats() -> None:
    assert python_docstring('Say "hi" """ now', "    ") == '    """Say "hi" \\"\\"\\" now"""'
    long = python_docstring("word " * 30, "    ")
    assert long.startswith('    """\n    word') and long.endswith('\n    """')
    assert doc_comment("Adds.", "", _spec("go")) == "// Adds."
    assert doc_comment("Adds.", "    ", _spec("rust")) == "    /// Adds."
    assert doc_comment("a */ b", "", _spec("java")) == "/** a * / b */"
    multi = doc_comment("word " * 30, "", _spec("c"))
    assert multi.startswith("/**\n * word") and multi.endswith("\n */")


class _ChatTokenizer:
    """Renders a chat like a real template would; refuses system turns like Gemma's."""

    chat_template = "{% for m in messages %}...{% endfor %}"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        if any(m["role"] == "system" for m in messages):
            raise ValueError("System role not supported")
        return (
            "".join(f"<start>{m['role']}\n{m['content']}<end>" for m in messages) + "<start>model"
        )

    def __call__(self, text, add_special_tokens):
        assert add_special_tokens is False
        return {"input_ids": [ord(c) for c in text]}


def test_chat_prompts_go_through_the_tokenizer_s_template() -> None:
    from types import SimpleNamespace

    from codecomp_lsp.features.modelio import ModelIO
    from codecomp_lsp.settings import Settings

    loaded = SimpleNamespace(tokenizer=_ChatTokenizer(), has_chat_template=True)
    engine = SimpleNamespace(
        loaded=loaded, require=lambda: (loaded, None), state="ready", stats=None
    )
    io = ModelIO(engine, lambda: Settings())  # type: ignore[arg-type]
    assert io.chat
    ids = io.chat_ids("What does f do?", system="Be brief.")
    rendered = "".join(chr(i) for i in ids)
    # The system turn was folded into the user's when the template refused it.
    assert rendered == "<start>user\nBe brief.\n\nWhat does f do?<end><start>model"


def test_a_capped_explanation_ends_at_its_last_full_sentence() -> None:
    from codecomp_lsp.features.hover import cut_to_sentence

    text = (
        "Lists the Python files under root. It walks the tree with os.walk, and for each file found"
    )
    assert cut_to_sentence(text) == "Lists the Python files under root."
    # No sentence end early enough: the text is kept and marked as cut.
    assert cut_to_sentence("short. " + "x" * 100) == "short. " + "x" * 100 + "…"
    assert cut_to_sentence("os.path.join is used here") == "os.path.join is used here…"
    assert cut_to_sentence("Ends well.") == "Ends well."


@pytest.mark.parametrize(
    ("generated", "expected"),
    [
        # Qwen's answer to "# print the number of files": the code, then a new task.
        (
            "print(count_files('.'))\n\n\n# print the number of files in 'example'\nprint(1)\n",
            "print(count_files('.'))\n\n\n",
        ),
        ("x = 1\n# explain the next step\ny = x + 1\n", None),  # a comment among its lines stays
        ("# first, the setup\n\nx = 1\n", None),  # comments before any code belong to the answer
        ("x = 1\n\n    # indented too\n", "x = 1\n\n"),
        ("let x = 1;\n\n// another task\n", "let x = 1;\n\n"),
    ],
)
def test_code_from_a_comment_ends_where_the_model_starts_another_task(generated, expected):
    from codecomp_lsp.context.languages import spec_by_name
    from codecomp_lsp.features.action_text import next_task_at

    language = "javascript" if "let " in generated else "python"
    cut = next_task_at(generated, spec_by_name(language))
    assert (None if cut is None else generated[:cut]) == expected
