"""Deciding whether a package's declared license lets us train on and ship from it."""

from __future__ import annotations

import re
from typing import Final

# Canonical SPDX-ish names we accept, and how registries spell them.
ALLOWED: Final = ("MIT", "BSD", "Apache-2.0", "PSF", "ISC")

_PATTERNS: Final = (
    ("MIT", re.compile(r"\bMIT\b|Expat|Permission is hereby granted, free of charge", re.I)),
    ("BSD", re.compile(r"\bBSD\b|Redistribution and use in source and binary forms", re.I)),
    (
        "Apache-2.0",
        re.compile(
            r"Apache(\s+Software)?(\s+License)?[\s,-]*(v(ersion)?\s*)?2(\.0)?|Apache-2\.0|\bApache\b",
            re.I,
        ),
    ),
    ("PSF", re.compile(r"\bPSF\b|Python Software Foundation", re.I)),
    ("ISC", re.compile(r"\bISC\b", re.I)),
)
# A copyleft or otherwise restrictive term anywhere rejects the package.
_REJECT: Final = re.compile(
    r"\b(L?GPL|AGPL|GNU|Mozilla Public|MPL|EPL|CDDL|SSPL|BUSL|Commons Clause|Proprietary)\b", re.I
)


def classify_license(*declared: str) -> str | None:
    """The allowed license named by the declarations, or None.

    `declared` holds everything the registry says (license expression, license
    field, trove classifiers). A dual license counts when every alternative
    mentioned is allowed; any copyleft mention rejects, to stay on the safe side.
    """
    text = " ".join(d for d in declared if d)
    if not text.strip() or _REJECT.search(text):
        return None
    for name, pattern in _PATTERNS:
        if pattern.search(text):
            return name
    return None
