"""Translate a selection, or the function at the cursor, into another language with the model.

One code action per target in `translateTargets` (any of our grammars but the document's own).
The model answers in one fenced block; the answer must end (not be cut at the token cap), pass
the secret filter and parse without an error in the target's grammar, or it is refused with the
reason. The translation becomes a new file beside the document (`walk.py` → `walk.js`, or
`walk.translated.js` when that exists), created with a `WorkspaceEdit` where the client can
create files; elsewhere the user is shown the code.
"""

from __future__ import annotations

import posixpath
import textwrap
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from codecomp_lsp.context.languages import LanguageSpec, spec_named
from codecomp_lsp.context.symbols import enclosing_symbol
from codecomp_lsp.context.syntax import count_errors
from codecomp_lsp.engine.decoder import CacheSlot
from codecomp_lsp.engine.generation import Finish
from codecomp_lsp.features.action_text import first_code_block
from codecomp_lsp.features.actions import ActionOutcome, NewDocument, Offer
from codecomp_lsp.features.modelio import ModelIO
from codecomp_lsp.features.refactor import selected_lines

__all__ = ["KIND_TRANSLATE", "TRANSLATE", "TranslateService", "sibling_uri"]

TRANSLATE = "translate"  # an offer's action is "translate:<target>"
KIND_TRANSLATE = "refactor.rewrite.translate"
TARGETS = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp")
LABELS = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
}
MAX_LINES = 200
_KINDS = frozenset({"function", "method", "class", "struct", "interface", "enum", "type"})
_SYSTEM = (
    "You translate code between programming languages exactly: same behaviour, same names in the "
    "target language's conventions, only its standard library. You reply with code only."
)


def sibling_uri(uri: str, language: str) -> str:
    """The new file's uri beside `uri`, with the target's extension; a file that exists already
    is never the answer (`.translated`, then numbered)."""
    spec = spec_named(language)
    ext = spec.extensions[0] if spec and spec.extensions else ".txt"
    parts = urlsplit(uri)
    folder, name = posixpath.split(parts.path)
    stem = posixpath.splitext(name)[0] or "translation"
    candidates = [stem, f"{stem}.translated"] + [f"{stem}.translated{n}" for n in range(2, 100)]
    for candidate in candidates:
        path = posixpath.join(folder, candidate + ext)
        if parts.scheme != "file" or not Path(unquote(path)).exists():
            return parts._replace(path=path).geturl()
    return parts._replace(path=posixpath.join(folder, f"{stem}.translated{ext}")).geturl()


class TranslateService:
    def __init__(self, io: ModelIO) -> None:
        self.io = io

    def offers(
        self,
        uri: str,
        text: str,
        spec: LanguageSpec | None,
        start: tuple[int, int],
        end: tuple[int, int],
        targets: tuple[str, ...],
    ) -> list[Offer]:
        """One offer per target for the selected lines, or the function at the cursor."""
        if spec is None:
            return []
        rows = selected_lines(text, start, end)
        if rows is None:
            symbol = enclosing_symbol(text, spec, start[0], start[1], uri=uri, kinds=_KINDS)
            if symbol is None or symbol.local:
                return []
            rows = (symbol.top_line, symbol.span[2])
        first, last = rows
        if last - first + 1 > MAX_LINES:
            return []
        width = len(text.split("\n")[last])
        return [
            Offer(
                f"{TRANSLATE}:{t}",
                f"Translate to {LABELS[t]}",
                KIND_TRANSLATE,
                first,
                0,
                last,
                width,
            )
            for t in targets
            if t in LABELS and t != spec.name and not (spec.name == "tsx" and t == "typescript")
        ]

    def run(
        self,
        offer: Offer,
        uri: str,
        text: str,
        spec: LanguageSpec,
        *,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> ActionOutcome:
        target = offer.action.partition(":")[2]
        target_spec = spec_named(target)
        title = offer.title
        if target_spec is None or target not in LABELS:
            return ActionOutcome(None, f"{title}: not a language this server knows")
        lines = text.split("\n")
        code = textwrap.dedent("\n".join(lines[offer.line : offer.end_line + 1])).strip("\n")
        question = (
            f"Translate this {spec.name} code to {LABELS[target]}. Keep every function and its "
            f"behaviour. Reply with only the {LABELS[target]} code, in one ```{target} block."
            f"\n\n```{spec.name}\n{code}\n```"
        )
        ids = (
            self.io.chat_ids(question, _SYSTEM) if self.io.chat else self._plain(spec, code, target)
        )
        fences = 2 if self.io.chat else 1  # a plain model's answer starts inside the block
        settings = self.io.settings()
        result = self.io.generate(
            ids,
            key=CacheSlot.ACTION,
            max_new_tokens=max(settings.codeActionMaxNewTokens, 512),
            candidates=settings.candidates,
            stop_check=lambda generated: generated.count("```") >= fences,
            cancel=cancel,
            deadline=deadline,
        )
        failure = None
        for candidate in result.candidates:
            raw = candidate.text if self.io.chat else f"```{target}\n{candidate.text}"
            found = first_code_block(raw)
            if candidate.finish is not Finish.STOP or found is None:
                failure = failure or "the model's answer was cut short"
                continue
            translated = found.strip("\n")
            if not translated.strip():
                failure = failure or "the model wrote no code"
            elif self.io.filter_output(translated) is None:
                failure = failure or "the translation looks like it carries a secret"
            elif count_errors(translated, target_spec):
                failure = failure or f"the translation does not parse as {LABELS[target]}"
            else:
                new_uri = sibling_uri(uri, target)
                document = NewDocument(new_uri, translated + "\n", target)
                return ActionOutcome(None, None, document=document)
        return ActionOutcome(None, f"{title}: {failure or 'no answer'}; nothing was written")

    def _plain(self, spec: LanguageSpec, code: str, target: str) -> list[int]:
        """A model without a chat template continues a two-fence document."""
        prompt = f"{spec.line_comment} {spec.name}\n```{spec.name}\n{code}\n```\n\n"
        prompt += f"The same code in {LABELS[target]}:\n```{target}\n"
        return self.io.text_ids(prompt)
