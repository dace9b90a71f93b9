"""The raw-model baseline: the model alone, as its makers prompt it — its own FIM markers
around the prefix and suffix exactly as given, greedy, no context windows, no stop rules but
the model's own end tokens (and the end of the first line for line tasks), no post-processing.
The ceiling the server's pipeline has to beat (`codecomp eval --models raw:NAME`).

It decodes on the same engine as the pipeline (same weights, precision and kernels), so the two
rows differ only in what the pipeline adds."""

from __future__ import annotations

from dataclasses import replace

from codecomp_lsp.engine.generation import GenerationRequest
from codecomp_lsp.features.completion import DocumentSnapshot
from codecomp_lsp.prompt.builder import TokenCounter
from codecomp_lsp.settings import Settings

LINE_TOKENS = 48  # the server's single-line cap
SPAN_TOKENS = 128  # the eval's block cap for the server path
PROMPT_TOKENS = Settings().maxPromptTokens


def _first_line_done(text: str) -> bool:
    return "\n" in text


class RawCompleter:
    def __init__(
        self, model: str | None, *, device: str = "auto", quantization: str = "auto"
    ) -> None:
        from codecomp_lsp.engine.engine import Engine

        self.engine = Engine()
        self.engine.load(replace(Settings(), model=model, device=device, quantization=quantization))
        self.engine.ready.wait()
        if self.engine.state != "ready":
            raise RuntimeError(f"model did not load: {self.engine.error}")
        loaded, _ = self.engine.require()
        template = loaded.template
        if not template.prefix:
            raise RuntimeError(f"{loaded.name} has no fill-in-the-middle markers")
        vocab = loaded.tokenizer.get_vocab()
        self._markers = tuple(vocab[m] for m in (template.prefix, template.suffix, template.middle))
        self._counter = TokenCounter(loaded.tokenizer)  # the builder's: control tokens split
        self.name = f"raw {loaded.name}"
        self.device = str(loaded.device)

    def _encode(self, text: str) -> list[int]:
        return list(self._counter.encode(text))

    def prompt_ids(self, prefix: str, suffix: str) -> list[int]:
        """`<PRE> prefix <SUF> suffix <MID>`, each part tokenized on its own; a file longer than
        the server's prompt budget keeps the tokens nearest the cursor (a plain cut, 3:1 before
        and after it, no windows at line or block boundaries)."""
        pre, suf, mid = self._markers
        before, after = self._encode(prefix), self._encode(suffix)
        room = PROMPT_TOKENS - 3
        if len(before) + len(after) > room:
            keep_after = min(len(after), max(room // 4, room - len(before)))
            after = after[:keep_after]
            before = before[len(before) - (room - keep_after) :] if before else before
        return [pre, *before, suf, *after, mid]

    def complete(self, text: str, line: int, character: int, uri: str, extent: str = "line") -> str:
        at = DocumentSnapshot(uri, text).line_offset(line) + character
        first_line = extent == "line"
        request = GenerationRequest(
            key=uri,
            prompt_ids=self.prompt_ids(text[:at], text[at:]),
            max_new_tokens=LINE_TOKENS if first_line else SPAN_TOKENS,
            stop_check=_first_line_done if first_line else None,
        )
        result = self.engine.submit(lambda: self.engine.generate(request), key=uri).future.result()
        out = result.candidates[0].text if result.candidates else ""
        return out.split("\n", 1)[0] if first_line else out

    def close(self) -> None:
        self.engine.worker.shutdown(wait=True)
