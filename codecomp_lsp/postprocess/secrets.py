"""Refuse model output that looks like it carries a secret.

A code model has read credentials in its training data and can reproduce them, or copy one from
another open file. Every model output (completions, hover explanations, code-action edits) goes
through `find_secret` before anyone sees it; a hit suppresses the output and is counted.

Three kinds of evidence, from most to least certain:
- private key blocks and well-known key formats (AWS, GitHub, Slack, Stripe, Google, OpenAI, JWT);
- a random-looking literal assigned to a name such as `api_key`, `token`, `secret`, `password`
  (or a password inside a connection URL);
- the user's own deny patterns (setting `denyPatterns`).

Ordinary code must pass: names are split into words (`tokenizer` is not `token`), values must look
random (mixed character classes, enough entropy, not a placeholder or an identifier), and plain
words, paths, hashes assigned to other names, UUIDs and public keys/certificates are left alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "SecretMatch",
    "compile_patterns",
    "find_secret",
    "find_secret_in",
    "looks_random",
    "stream_prefix",
]


@dataclass(frozen=True)
class SecretMatch:
    """Why a text was refused: the rule's name and where in the text it matched."""

    kind: str
    start: int
    end: int


_KNOWN: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        ("AWS access key", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
        ("GitHub token", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("Slack webhook", r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
        ("Stripe key", r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b"),
        ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
        ("OpenAI key", r"\bsk-(?:proj|svcacct|admin|ant)-[A-Za-z0-9_\-]{20,}"),
        ("OpenAI key", r"\bsk-[A-Za-z0-9]{32,}\b"),
        ("OpenAI key", r"T3Blbk(?:FJ)"),  # base64 of "OpenAI", inside every legacy key
        ("Hugging Face token", r"\bhf_[A-Za-z0-9]{34,}\b"),
        ("JWT", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    )
)

# Words that make a name a credential's name; a name is split on `_`, `-`, `.` and camelCase.
_SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "secrets",
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "credential",
        "credentials",
        "auth",
        "bearer",
        "private",
    }
)
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase"})

# NAME = "value", NAME: 'value', "NAME": "value", NAME := `value`, NAME => "value"
_ASSIGNED_LITERAL = re.compile(
    r"""(?P<name>[A-Za-z_$][\w$.\-]*)["']?\s*(?::=|=>|==|=|:)\s*"""
    r"""(?:[rRbBuUfF]{0,2}|@)(?P<quote>["'`])(?P<value>[^"'`\n\\]{8,256})(?P=quote)"""
)
# Shell / .env style: SECRET_KEY=value (upper-case names only: that is where they live).
_ASSIGNED_BARE = re.compile(
    r"(?m)^[ \t]*(?:export[ \t]+)?(?P<name>[A-Z][A-Z0-9_]*)[ \t]*=[ \t]*(?P<value>[^\s\"'`#;]{8,256})[ \t]*$"
)
_BEARER = re.compile(r"(?i)\bbearer\s+(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)")
_URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@'\"]+:(?P<value>[^\s/:@'\"]{4,})@")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IDENTIFIER_LIKE = re.compile(
    r"[a-z][a-z0-9]*(?:[_\-. ][a-z0-9]+)*"  # snake_case, kebab-case, dotted.words
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*"  # CONSTANT_CASE
    r"|[A-Za-z][a-z]+(?:[A-Z][a-z]+)*[0-9]{0,4}"  # camelCase and PascalCase words
)
_ATTRIBUTE_CHAIN = re.compile(
    r"[A-Za-z_][A-Za-z_]*[0-9]{0,4}(?:\.[A-Za-z_][A-Za-z_]*[0-9]{0,4})+(?:\(\))?"
)
_PLACEHOLDER = re.compile(
    r"(?i)your|example|sample|dummy|placeholder|changeme|change_me|replace|redacted|"
    r"secret_here|todo|fixme|xxxx|\*\*\*|\.\.\.|<[^>]*>|\{[^{}]*\}|%\(|%s|^test|^fake|^mock"
)
_PLACEHOLDER_PASSWORDS = frozenset(
    {"password", "pass", "passwd", "secret", "changeme", "admin", "root", "user", "pwd", "xxx"}
)


def _name_words(name: str) -> set[str]:
    words: set[str] = set()
    for part in re.split(r"[_\-.$]+", name):
        words.update(w.lower() for w in _CAMEL.findall(part))
        words.add(part.lower())
    return words


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_random(value: str, *, password: bool = False) -> bool:
    """Whether a literal looks like generated key material rather than words, paths or ids.

    `password` lowers the bar (human passwords are short): 8 characters with three character
    classes are enough there.
    """
    if any(ch.isspace() for ch in value) or _PLACEHOLDER.search(value):
        return False
    if _IDENTIFIER_LIKE.fullmatch(value):  # snake_case, kebab-case, dotted.words, CONSTANTS
        return False
    if _ATTRIBUTE_CHAIN.fullmatch(value):  # Keys.General.ARCHITECTURE: code, not key material
        return False
    if value.count("/") >= 2 and not re.search(r"[A-Za-z0-9+]{20,}", value):
        return False  # a path
    lower = any(c.islower() for c in value)
    upper = any(c.isupper() for c in value)
    digit = any(c.isdigit() for c in value)
    symbol = any(not c.isalnum() for c in value)
    classes = lower + upper + digit + symbol
    entropy = _entropy(value)
    if password:
        return len(value) >= 8 and classes >= 3 and entropy >= 2.5
    if len(value) < 16:
        return False
    if re.fullmatch(r"[0-9a-fA-F]{32,}", value):  # hex digests and keys
        return entropy >= 3.0
    if re.fullmatch(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value
    ):
        return False  # a UUID is an identifier
    if not (digit and (lower or upper)) and not (lower and upper and len(value) >= 20):
        return False
    return entropy >= 3.3


def _credential_name(name: str) -> tuple[bool, bool]:
    """(is a credential's name, is a password's name)."""
    words = _name_words(name)
    return bool(words & _SECRET_WORDS), bool(words & _PASSWORD_WORDS)


def _assigned(text: str) -> Iterator[SecretMatch]:
    for pattern in (_ASSIGNED_LITERAL, _ASSIGNED_BARE):
        for match in pattern.finditer(text):
            secret_name, password = _credential_name(match.group("name"))
            if not secret_name:
                continue
            value = match.group("value")
            if looks_random(value, password=password):
                yield SecretMatch("secret assigned to " + match.group("name"), *match.span())
    for match in _BEARER.finditer(text):
        if looks_random(match.group("value")):
            yield SecretMatch("bearer token", *match.span())
    for match in _URL_PASSWORD.finditer(text):
        value = match.group("value")
        if value.lower() not in _PLACEHOLDER_PASSWORDS and not _PLACEHOLDER.search(value):
            yield SecretMatch("password in URL", *match.span())


@lru_cache(maxsize=16)
def compile_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """The user's deny patterns, compiled once (they were validated with the settings)."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error:
            continue
    return tuple(compiled)


def _matches(text: str, deny_patterns: Iterable[str]) -> Iterator[SecretMatch]:
    for kind, pattern in _KNOWN:
        for match in pattern.finditer(text):
            yield SecretMatch(kind, *match.span())
    yield from _assigned(text)
    for pattern in compile_patterns(tuple(deny_patterns)):
        for match in pattern.finditer(text):
            yield SecretMatch("deny pattern " + pattern.pattern, *match.span())


def find_secret(text: str, deny_patterns: Iterable[str] = ()) -> SecretMatch | None:
    """The first sign of a secret in `text`, or None when it is safe to show."""
    if not text:
        return None
    return next(_matches(text, deny_patterns), None)


def find_secret_in(
    inserted: str, before: str = "", after: str = "", deny_patterns: Iterable[str] = ()
) -> SecretMatch | None:
    """A secret that `inserted` (model output) completes or contains, judged in its context.

    `before`/`after` are the text around the insertion (the cursor line): `api_key = "` typed by
    the user and a random string written by the model make a secret together. A secret wholly in
    the user's own text does not count against the model output.
    """
    if not inserted:
        return None
    before, after = before[-256:], after[:256]
    lo, hi = len(before), len(before) + len(inserted)
    for match in _matches(before + inserted + after, deny_patterns):
        if match.start < hi and match.end > lo:
            return match
    return None


# Beginnings of the well-known formats: a streamed text ending in one is held back until the
# token is complete and can be judged.
_KEY_PREFIXES = (
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "sk-",
    "sk_",
    "rk_",
    "AIza",
    "eyJ",
    "hf_",
)
_TAIL = re.compile(r"[A-Za-z0-9_\-+/=]+$")


def stream_prefix(text: str, deny_patterns: Iterable[str] = (), before: str = "") -> str | None:
    """What of a partial model output may be shown while it is still being written.

    None when it already carries a secret; otherwise the text without a trailing run that could
    be the start of one (a key prefix, a random-looking run, an opened private key block).
    `before` is the user's text before the insertion point (the cursor line).
    """
    if find_secret_in(text, before, "", deny_patterns) is not None:
        return None
    begin = text.rfind("-----BEGIN")
    if begin >= 0 and "-----END" not in text[begin:]:
        text = text[:begin]
    match = _TAIL.search(text)
    if match is not None:
        tail = match.group()
        if match.start() == 0:  # the run may have begun in the user's text
            head = re.search(r"[A-Za-z0-9_\-+/=]*$", before[-256:])
            tail = (head.group() if head else "") + tail
        could_begin_key = tail.startswith(_KEY_PREFIXES) or any(
            prefix.startswith(tail) for prefix in _KEY_PREFIXES
        )
        if could_begin_key or looks_random(tail):
            return text[: match.start()]
    return text
