"""Token ids an answer may not start with: every token whose text is one of some keywords (after
spaces or tabs), whole — `return`, ` return`, `return(` — never a token that only begins like one
(`ret`, `returned`). Found once per tokenizer and keyword set: the vocabulary is searched for the
keyword's letters first, so only a few hundred of its ~150k tokens are decoded."""

from __future__ import annotations

import threading
import weakref
from typing import Any

_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], frozenset[int]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()
_KEPT = 256  # word sets kept per tokenizer (the definition check asks for the names of a file)


def _starts_with_word(text: str, word: str) -> bool:
    body = text.lstrip(" \t")
    if not body.startswith(word):
        return False
    rest = body[len(word) :]
    return not rest or not (rest[0].isalnum() or rest[0] == "_")


def first_token_bans(tokenizer: Any, words: tuple[str, ...]) -> frozenset[int]:
    """The ids of the tokens that start with one of `words` as a whole word."""
    if not words:
        return frozenset()
    with _LOCK:
        known = _CACHE.get(tokenizer, {}).get(words)
    if known is not None:
        return known
    ids = set()
    for token, token_id in tokenizer.get_vocab().items():
        if any(word in token for word in words):
            text = tokenizer.decode([token_id], skip_special_tokens=False)
            if any(_starts_with_word(text, word) for word in words):
                ids.add(token_id)
    found = frozenset(ids)
    with _LOCK:
        kept = _CACHE.setdefault(tokenizer, {})
        kept[words] = found
        while len(kept) > _KEPT:
            kept.pop(next(iter(kept)))
    return found
