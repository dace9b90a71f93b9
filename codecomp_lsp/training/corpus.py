"""Training text: an always-available offline corpus and packing into windows."""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from transformers import PreTrainedTokenizerFast

# Test suites and third-party installs are not representative source and can be huge.
EXCLUDED_DIRS: Final = frozenset(
    {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}
)
MAX_FILE_BYTES: Final = 50 * 1024


def iter_stdlib_sources(root: Path | None = None) -> Iterator[Path]:
    """Python files under the standard library, in a deterministic (sorted walk) order."""
    top = Path(sysconfig.get_paths()["stdlib"]) if root is None else root
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath, name)


def default_corpus_texts(max_files: int = 200) -> list[str]:
    """Source of up to `max_files` stdlib modules (UTF-8, at most 50 KB each).

    The interpreter's own standard library is present on every machine, so tests
    and the tiny-model builder need no network or bundled data.
    """
    texts: list[str] = []
    for path in iter_stdlib_sources():
        if len(texts) >= max_files:
            break
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text.strip():
            texts.append(text)
    return texts


def pack_windows(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerFast, seq_len: int
) -> list[list[int]]:
    """Concatenate documents, each followed by EOS, and cut into `seq_len` windows.

    Packing wastes no compute on padding; only the last window may be shorter.
    """
    eos_id = tokenizer.eos_token_id
    assert isinstance(eos_id, int)
    stream: list[int] = []
    # The backend encodes in parallel, skips offsets and the model_max_length warning.
    backend = tokenizer.backend_tokenizer
    for encoding in backend.encode_batch_fast(list(texts), add_special_tokens=False):
        stream.extend(encoding.ids)
        stream.append(eos_id)
    return [stream[i : i + seq_len] for i in range(0, len(stream), seq_len)]
