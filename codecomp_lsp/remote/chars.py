"""When the remote model's tokenizer is not on this machine: count the prompt in characters and
send it as text.

`CharTokenizer` stands in for a tokenizer with one id per code point and one per FIM marker, so the
prompt builder, its windows and its budgets work unchanged; the budgets are scaled by
`CHARS_PER_TOKEN` (conservative for code, so the prompt stays inside the engine's context) and the
backend turns the ids back into the text it sends. The engine tokenizes that text itself, and its
special-token strings (`<|fim_prefix|>`…) become its markers. What is lost: the exact budget, and
the token ids we would count reuse in — the engine still caches the prefix, which stays the same
text while the user types.
"""

from __future__ import annotations

from typing import Any

from codecomp_lsp.prompt.templates import TEMPLATES, FimTemplate

CHARS_PER_TOKEN = (
    3  # code runs 3.5-4.5 characters per token in the tokenizers we ship templates for
)
_MARKER_BASE = 0x110000  # past the last code point
_NAMES = {  # a served model's name → its FIM template, when there is no tokenizer to detect it in
    "qwen": "qwen",
    "starcoder": "starcoder",
    "deepseek": "deepseek",
    "codellama": "codellama",
    "code-llama": "codellama",
    "codegemma": "codegemma",
    "codecomp": "codecomp",
}


def guess_template(model_name: str) -> FimTemplate | None:
    lowered = model_name.lower()
    for key, name in _NAMES.items():
        if key in lowered:
            return TEMPLATES[name]
    return None


class CharTokenizer:
    """The subset of a Hugging Face tokenizer the prompt builder uses, in characters."""

    chat_template = None
    eos_token_id = None

    def __init__(self, template: FimTemplate) -> None:
        markers = [template.prefix, template.suffix, template.middle, template.file_sep]
        markers += list(template.stops)
        unique = [m for i, m in enumerate(markers) if m and m not in markers[:i]]
        self.template = template
        self._vocab = {m: _MARKER_BASE + i for i, m in enumerate(unique)}
        self._markers = {i: m for m, i in self._vocab.items()}

    def __call__(self, text: str, **_: Any) -> dict[str, list[int]]:
        # User text is never read as markers (a tokenizer's split_special_tokens=True).
        return {"input_ids": [ord(c) for c in text]}

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def decode(self, ids: list[int], **_: Any) -> str:
        return "".join(self._markers.get(i) or chr(i) for i in ids)
