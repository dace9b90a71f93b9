"""A scripted model at the model port: the real ModelIO, tokenizer, prompt builder and chat
template run as in the server; only the decoding is replaced by text the test wrote.

`ScriptedEngine` implements `features.port.ModelPort` with the shipped codecomp-tiny tokenizer and
records every `GenerationRequest`; `ScriptedIO` is the real `ModelIO` over it, with what the tests
read: how many generations ran, the last one's parameters, and each prompt as the model saw it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import torch
from transformers import AutoTokenizer

from codecomp_lsp.engine.decoder import (
    Cancelled,
    Candidate,
    Decoder,
    GenerationRequest,
    GenerationResult,
)
from codecomp_lsp.engine.loader import LoadedModel, default_model_path
from codecomp_lsp.engine.stats import Stats
from codecomp_lsp.engine.worker import Job
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.prompt.builder import PromptBuilder, TokenCounter
from codecomp_lsp.prompt.templates import FimTemplate, detect_template
from codecomp_lsp.settings import Settings

# ChatML, as Qwen's and many other instruction-tuned models' tokenizers carry it.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")


def load_tiny_tokenizer(*, chat: bool = False) -> Any:
    """A fresh codecomp-tiny tokenizer; with `chat`, one that carries a ChatML template."""
    path = default_model_path()
    assert path is not None, "the shipped codecomp-tiny model is missing"
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if chat:
        tokenizer.add_tokens(list(CHATML_TOKENS), special_tokens=True)
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


@functools.cache
def shared_tiny_tokenizer(*, chat: bool = False) -> Any:
    """One tokenizer per mode for all scripted engines (read only: loading takes ~0.1 s); call
    load_tiny_tokenizer for one to change."""
    return load_tiny_tokenizer(chat=chat)


def _stop_ids(tokenizer: Any, template: FimTemplate) -> frozenset[int]:
    vocab = tokenizer.get_vocab()
    ids = {vocab[s] for s in template.stops if s in vocab}
    if isinstance(tokenizer.eos_token_id, int):
        ids.add(tokenizer.eos_token_id)
    return frozenset(ids)


def loaded_tiny(tokenizer: Any, name: str = "codecomp-tiny (scripted)") -> LoadedModel:
    """A LoadedModel around `tokenizer` without weights (prompt_budget then keeps the settings')."""
    template = detect_template(tokenizer.get_vocab())
    return LoadedModel(
        model=None,
        tokenizer=tokenizer,
        name=name,
        device=torch.device("cpu"),
        dtype=torch.float32,
        template=template,
        stop_ids=_stop_ids(tokenizer, template),
        reusable_cache=True,
        load_seconds=0.0,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
    )


# A prompt read back from its token ids: ("chat", the rendered template, roles and all), or for
# fill-in-the-middle (the text shown around the cursor, cursor line, cursor column), the line and
# column counted within that window (the whole document for the short ones the tests use).
Prompt = tuple[str, str] | tuple[str, int, int]


class ScriptedEngine:
    """A ModelPort whose generations are the scripted outputs, one candidate per output."""

    def __init__(self, outputs: list[str], *, chat: bool = False, tokenizer: Any = None) -> None:
        self.outputs = outputs
        self.stats = Stats()
        tokenizer = tokenizer if tokenizer is not None else shared_tiny_tokenizer(chat=chat)
        self.loaded: LoadedModel | None = loaded_tiny(tokenizer)
        self.error: str | None = None
        self.requests: list[GenerationRequest] = []
        self.prompts: list[Prompt] = []
        self._builders: dict[int, PromptBuilder] = {}
        self._counter: TokenCounter | None = None

    @property
    def usable(self) -> bool:
        return self.loaded is not None

    def submit(
        self,
        fn: Callable[[], Any],
        *,
        key: str | None = None,
        cancel: threading.Event | None = None,
        background: bool = False,
    ) -> Job:
        """Run `fn` now, on the caller's thread; the job comes back resolved."""
        job = Job(fn=fn, key=key, cancel=cancel or threading.Event(), background=background)
        try:
            if job.cancel.is_set():
                raise Cancelled()
            if job.future.set_running_or_notify_cancel():
                job.future.set_result(fn())
        except Exception as exc:  # noqa: BLE001 - the job's caller decides what an error means
            job.future.set_exception(exc)
        return job

    def require(self) -> tuple[LoadedModel, Decoder | None]:
        """The loaded tokenizer and template; no decoder (`generate` is scripted, and the
        features only read the LoadedModel)."""
        if self.loaded is None:
            raise RuntimeError(self.error or "the model is not loaded")
        return self.loaded, None

    def prompt_builder(self, max_prompt_tokens: int, new_tokens: int) -> PromptBuilder:
        """As the engine builds them: one builder per budget, one token cache for all."""
        loaded, _ = self.require()
        budget = loaded.prompt_budget(max_prompt_tokens, new_tokens)
        builder = self._builders.get(budget)
        if builder is None:
            if self._counter is None:
                self._counter = TokenCounter(loaded.tokenizer)
            builder = PromptBuilder(loaded.tokenizer, loaded.template, budget, self._counter)
            self._builders[budget] = builder
        return builder

    def generate(self, req: GenerationRequest) -> GenerationResult:
        """Record the request, stream each scripted output as the decoder would, and return them."""
        loaded, _ = self.require()
        if not req.prompt_ids:
            raise ValueError("empty prompt")
        self.requests.append(req)
        self.prompts.append(self.read_prompt(req.prompt_ids))
        outputs = self.outputs[: max(1, req.candidates)]
        for row, text in enumerate(outputs):
            if req.on_text is not None:
                for end in range(1, len(text) + 1):
                    req.on_text(row, text[:end])
            if req.on_finish is not None:
                req.on_finish(row, text)
        candidates = []
        for i, text in enumerate(outputs):
            ids = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
            candidates.append(Candidate(text, list(ids), -0.1 * i, "stop"))
        generated = sum(len(c.token_ids) for c in candidates)
        self.stats.add(
            promptTokens=len(req.prompt_ids),
            prefilledTokens=len(req.prompt_ids),
            generatedTokens=generated,
        )
        return GenerationResult(
            candidates=candidates,
            prompt_tokens=len(req.prompt_ids),
            reused_tokens=0,
            prefilled_tokens=len(req.prompt_ids),
            generated_tokens=generated,
            prefill_ms=0,
            first_token_ms=0,
            total_ms=0,
        )

    # -- reading prompts back -------------------------------------------------------------------
    def decode(self, ids: list[int]) -> str:
        loaded, _ = self.require()
        return loaded.tokenizer.decode(
            ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
        )

    def read_prompt(self, ids: list[int]) -> Prompt:
        """`[snippets][PRE] before + indent [SUF] line_suffix "\\n" after [MID] typed`, or a chat."""
        loaded, _ = self.require()
        vocab = loaded.tokenizer.get_vocab()
        template = loaded.template
        pre, suf, mid = (vocab.get(m) for m in (template.prefix, template.suffix, template.middle))
        if pre not in ids or suf not in ids or mid not in ids:
            return ("chat", self.decode(ids))
        start, hole, middle = ids.index(pre), ids.index(suf), ids.index(mid)
        before = self.decode(ids[start + 1 : hole])
        suffix = self.decode(ids[hole + 1 : middle])
        head = before + self.decode(ids[middle + 1 :])  # the cursor line's indent ends `before`
        return head + suffix, head.count("\n"), len(head) - (head.rfind("\n") + 1)


class ScriptedIO(ModelIO):
    """The real ModelIO over a ScriptedEngine; `settings` are Settings fields."""

    def __init__(self, outputs: list[str], *, chat: bool = False, **settings: Any) -> None:
        self.scripted = ScriptedEngine(outputs, chat=chat)
        super().__init__(self.scripted, lambda: Settings(**settings))

    @property
    def calls(self) -> int:
        """Generations asked of the model."""
        return len(self.scripted.requests)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The last generation request's parameters (max_new_tokens, candidates, stop_check, ...)."""
        request = self.scripted.requests[-1]
        return {f.name: getattr(request, f.name) for f in fields(request)}

    @property
    def prompts(self) -> list[Prompt]:
        """Each generation's prompt as read back from its token ids."""
        return self.scripted.prompts
