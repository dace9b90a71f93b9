"""Special tokens of the codecomp model family.

The server detects the FIM template from these exact strings, so they live in one
place shared by the tokenizer trainer, the FIM transform and the model builder.
"""

from __future__ import annotations

from typing import Final

EOS_TOKEN: Final = "<|endoftext|>"  # also BOS: documents are separated, not framed
FIM_PREFIX: Final = "<|cc_prefix|>"
FIM_SUFFIX: Final = "<|cc_suffix|>"
FIM_MIDDLE: Final = "<|cc_middle|>"
PAD_TOKEN: Final = "<|cc_pad|>"
FILE_SEP: Final = "<|cc_file_sep|>"

# Order fixes the ids 0..5 in every trained tokenizer.
SPECIAL_TOKENS: Final[tuple[str, ...]] = (
    EOS_TOKEN,
    FIM_PREFIX,
    FIM_SUFFIX,
    FIM_MIDDLE,
    PAD_TOKEN,
    FILE_SEP,
)
