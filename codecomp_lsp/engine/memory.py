"""Running out of memory mid-forward, as it looks on each device, and what brings the engine back.

On CPU an allocation that fails is not `torch.OutOfMemoryError`: the allocator raises a plain
RuntimeError ("DefaultCPUAllocator: can't allocate memory"), Python a MemoryError, and oneDNN,
which builds a kernel ("primitive") for each new matrix shape, "could not create a primitive".
Measured with torch 2.13 under a real address-space cap (RLIMIT_AS): once oneDNN failed to build a
primitive, it fails for every shape it had not built before, even after the memory came back, for
the rest of the process. The engine then turns oneDNN off and runs ATen's own kernels — slower for
dense bf16 prefill, unchanged for the int8/int4 kernels — rather than fail every request.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

_ALLOCATOR = ("can't allocate memory", "not enough memory", "out of memory")
_ONEDNN = "could not create a primitive"


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is an allocation that failed (any device) or oneDNN failing to build a kernel."""
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return True
    if not isinstance(exc, RuntimeError):
        return False
    text = str(exc).lower()
    return _ONEDNN in text or any(marker in text for marker in _ALLOCATOR)


def recover(exc: BaseException) -> str | None:
    """Make the next forward possible after `exc`; returns what changed for the user, if anything.

    The caller frees the KV cache; this turns oneDNN off when it is what failed."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if _ONEDNN in str(exc).lower() and torch._C._get_mkldnn_enabled():
        torch._C._set_mkldnn_enabled(False)
        log.error("oneDNN failed to build a kernel (%s); using ATen's kernels from now on", exc)
        return (
            "oneDNN's CPU kernels stopped working after memory ran out; slower kernels answer "
            "from now on (restart the server for full speed)"
        )
    return None
