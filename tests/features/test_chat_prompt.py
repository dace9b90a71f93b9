"""A chat prompt over the budget keeps its template's head and its generation prompt: the user's
text loses its middle, never the system turn or the role markers."""

from __future__ import annotations

from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.settings import Settings
from tests.features.scripted import ScriptedEngine, load_tiny_tokenizer

SYSTEM = "You are a concise programming assistant."
HEAD = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
TAIL = "<|im_end|>\n<|im_start|>assistant\n"


def _chat(max_prompt_tokens: int, tokenizer: object = None) -> tuple[ModelIO, ScriptedEngine]:
    engine = ScriptedEngine([], chat=True, tokenizer=tokenizer)
    return ModelIO(engine, lambda: Settings(maxPromptTokens=max_prompt_tokens)), engine


def _long_prompt(lines: int) -> str:
    body = "\n".join(f"    total_{i} = compute(items[{i}], weight={i * 3})" for i in range(lines))
    return f"Explain this python code.\n\n```python\ndef start_here():\n{body}\n    return end_here\n```"


def test_a_short_chat_prompt_is_rendered_whole() -> None:
    io, engine = _chat(1536)
    prompt = _long_prompt(3)
    ids = io.chat_ids(prompt, system=SYSTEM)
    assert engine.decode(ids) == HEAD + prompt + TAIL


def test_a_long_chat_prompt_loses_its_middle_not_its_template() -> None:
    io, engine = _chat(256)
    prompt = _long_prompt(2000)
    assert engine.loaded is not None
    assert len(engine.loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"]) > 10 * 256
    ids = io.chat_ids(prompt, system=SYSTEM)
    assert len(ids) <= 256
    rendered = engine.decode(ids)
    assert rendered.startswith(HEAD + "Explain this python code.\n\n```python\ndef start_here():")
    assert rendered.endswith("    return end_here\n```" + TAIL)
    assert rendered.count("\n…\n") == 1
    # Most of the budget is used: the cut is not far larger than it had to be.
    assert len(ids) > 256 * 0.6


def test_a_template_that_refuses_a_system_turn_is_cut_the_same_way() -> None:
    refusing = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}"
        "{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
        "{{ '<|im_start|>model\\n' }}"
    )
    tokenizer = load_tiny_tokenizer(chat=True)
    tokenizer.chat_template = refusing
    io, engine = _chat(200, tokenizer)
    ids = io.chat_ids(_long_prompt(1000), system=SYSTEM)
    assert len(ids) <= 200
    rendered = engine.decode(ids)
    assert rendered.startswith(f"<|im_start|>user\n{SYSTEM}\n\nExplain this python code.")
    assert rendered.endswith("return end_here\n```<|im_end|>\n<|im_start|>model\n")
    assert "\n…\n" in rendered


def test_when_no_cut_fits_both_ends_of_the_tokens_are_kept() -> None:
    # The system turn alone is over the budget: the user's text cannot make room.
    io, engine = _chat(64)
    system = "Be brief. " * 100
    ids = io.chat_ids("What does f do?", system=system)
    assert len(ids) == 64
    rendered = engine.decode(ids)
    assert rendered.startswith("<|im_start|>system\nBe brief.")
    assert rendered.endswith("What does f do?" + TAIL)
