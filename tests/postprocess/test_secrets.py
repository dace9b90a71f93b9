"""The secret filter: well-known key formats and random literals assigned to credential names are
refused; ordinary code (including this repository's own sources) is not."""

from __future__ import annotations

import random
import string
import subprocess
from pathlib import Path

import pytest

from codecomp_lsp.postprocess.secrets import (
    find_secret,
    find_secret_in,
    looks_random,
    stream_prefix,
)

# Planted secrets are generated, never written out, so no scanner mistakes this file for a leak.
_rng = random.Random(20240611)
ALNUM = string.ascii_letters + string.digits


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


UPPER_DIGITS = string.ascii_uppercase + string.digits
BEGIN = "-----BEGIN "

SECRETS = [
    ("private key", BEGIN + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + rnd(40)),
    ("private key", BEGIN + "OPENSSH PRIVATE KEY-----"),
    ("private key", BEGIN + "PGP PRIVATE KEY BLOCK-----"),
    ("AWS access key", f'aws_access_key_id = "{"AKIA" + rnd(16, UPPER_DIGITS)}"'),
    ("AWS access key", "ASIA" + rnd(16, UPPER_DIGITS)),
    ("GitHub token", f"token = '{'ghp_' + rnd(36)}'"),
    ("GitHub token", "github_pat_" + rnd(22) + "_" + rnd(59)),
    ("Slack token", f"SLACK = 'xoxb-{rnd(12, string.digits)}-{rnd(24)}'"),
    ("Stripe key", f"stripe.api_key = '{'sk_live_' + rnd(24)}'"),
    ("Google API key", f"const key = '{'AIza' + rnd(35)}';"),
    ("OpenAI key", f"client = OpenAI(api_key='{'sk-' + rnd(48)}')"),
    ("OpenAI key", "sk-proj-" + rnd(60, ALNUM + "-_")),
    ("Hugging Face token", "hf_" + rnd(34)),
    ("JWT", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + rnd(43)),
    ("secret assigned to api_key", f"api_key = '{rnd(32)}'"),
    ("secret assigned to SECRET_KEY", f'SECRET_KEY = "{rnd(50, ALNUM + "!@#$%^&*(-_=+)")}"'),
    ("secret assigned to self.auth_token", f"self.auth_token = '{rnd(24)}'"),
    ("secret assigned to db_password", f"db_password = '{rnd(6)}#{rnd(4, string.digits)}Ab'"),
    ("secret assigned to client_secret", f'{{"client_secret": "{rnd(30)}"}}'),
    ("secret assigned to accessToken", f"const accessToken = `{rnd(30)}`;"),
    ("secret assigned to AWS_SECRET_ACCESS_KEY", f"export AWS_SECRET_ACCESS_KEY={rnd(40)}"),
    ("password in URL", f"DATABASE_URL = 'postgres://app:{rnd(14)}@db.internal:5432/app'"),
    ("bearer token", f"headers = {{'Authorization': 'Bearer {rnd(40)}'}}"),
]


@pytest.mark.parametrize(("kind", "text"), SECRETS, ids=[k for k, _ in SECRETS])
def test_planted_secrets_are_found(kind: str, text: str) -> None:
    match = find_secret(text)
    assert match is not None
    assert match.kind == kind
    assert 0 <= match.start < match.end <= len(text)


ORDINARY = [
    "key = 'name'",
    "KEY_GENERAL_ARCHITECTURE = Keys.General.ARCHITECTURE",  # seen in llama.cpp's gguf-py
    "SECRET_KEY_BACKEND = settings.SecretKeyBackend",
    "sort_key = 'created_at'",
    "primary_key = 'user_id_2024_index'",
    "token = tokens[0]",
    "password = getpass.getpass()",
    "api_key = os.environ['API_KEY']",
    "token = '<your-token-here>'",
    "secret = '${SECRET}'",
    "API_KEY = 'YOUR_API_KEY_HERE'",
    "password = 'password'",
    "password = 'changeme'",
    "tokenizer_name = 'Qwen/Qwen2.5-Coder-0.5B'",
    "commit = '3f2a9c1e5b7d9f0a1c3e5b7d9f0a1c3e5b7d9f0a'",
    "request_id = '123e4567-e89b-12d3-a456-426614174000'",
    "secret_word = 'hello world this is it'",
    "key_path = 'config/keys/default.pem'",
    "private_key_file = 'server.key'",
    "token_classification_class = 'ForTokenClassification'",
    "hash_key = 'sha256'",
    "password_hash = 'pbkdf2_sha256'",
    "TOKEN_URL = 'https://oauth2.googleapis.com/token'",
    "url = 'postgres://user:password@localhost/db'",
    BEGIN + "CERTIFICATE-----",
    BEGIN + "PUBLIC KEY-----",
    "header = 'eyJhbGciOiJIUzI1NiJ9'",
    "from sklearn import svm  # sk-learn",
    "let key = `${prefix}-${id}`;",
    "def get_token(self):\n    return self._token",
    "for (const [key, value] of Object.entries(map)) {}",
    'fmt.Printf("token=%s\\n", tok)',
    "let auth = Auth::new(config);",
    'String password = request.getParameter("password");',
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_code_is_not_flagged(text: str) -> None:
    assert find_secret(text) is None


def test_this_repository_has_no_false_positives() -> None:
    root = Path(__file__).resolve().parents[2]
    # The tracked files only: benchmarks/work/ holds third-party sources built for comparisons.
    listed = subprocess.run(
        ["git", "ls-files", "codecomp_lsp", "examples", "benchmarks", "README.md"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    files = [root / name for name in listed if name.endswith((".py", ".md")) or "examples/" in name]
    checked = 0
    for path in files:
        if not path.is_file() or path.suffix in (".safetensors", ".gguf", ".bin", ".json"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        for start in range(0, len(lines), 8):  # completion-sized chunks
            chunk = "\n".join(lines[start : start + 12])
            assert find_secret(chunk) is None, (path, start, find_secret(chunk))
            checked += 1
    assert checked > 100


def test_deny_patterns_are_applied() -> None:
    assert find_secret("ticket = 'ACME-123456'") is None
    match = find_secret("ticket = 'ACME-123456'", [r"ACME-\d{6}"])
    assert match is not None and match.kind == r"deny pattern ACME-\d{6}"
    # An invalid pattern (settings validation rejects it first) is ignored, not fatal.
    assert find_secret("x = 1", ["(unclosed"]) is None


def test_a_secret_completed_by_the_model_is_found_in_context() -> None:
    key = "AKIA" + rnd(16, UPPER_DIGITS)
    typed, generated = f'aws_key = "{key[:8]}', f'{key[8:]}"'
    assert find_secret(generated) is None  # alone it is just letters
    assert find_secret_in(generated, typed, "") is not None
    # A secret wholly in the user's own text does not condemn an unrelated suggestion.
    assert find_secret_in("\nprint(key)", f'aws_key = "{key}"', "") is None


def test_stream_prefix_holds_back_what_may_become_a_secret() -> None:
    assert stream_prefix("os.path.join(root, name)") == "os.path.join(root, name)"
    assert stream_prefix("token = 'ghp_") == "token = '"
    assert stream_prefix("x = '" + rnd(20)) == "x = '"
    assert stream_prefix("body = " + BEGIN + "RSA PRI") == "body = "
    assert stream_prefix(f"k = '{'ghp_' + rnd(36)}'") is None
    assert stream_prefix("IOSFODNN", before='aws_key = "AKIA') == ""


@pytest.mark.parametrize(
    ("value", "random_looking"),
    [
        (rnd(32), True),
        (rnd(40, "0123456789abcdef"), True),
        ("ForTokenClassification", False),
        ("snake_case_words_2024", False),
        ("CONSTANT_NAME_VALUE", False),
        ("aaaaaaaaaaaaaaaaaaaa", False),
        ("short1A", False),
    ],
)
def test_looks_random(value: str, random_looking: bool) -> None:
    assert looks_random(value) is random_looking
