"""Typed settings (section `codecomp`): from initializationOptions, didChangeConfiguration and the CLI.

Invalid values never stop the server: each bad field keeps its default and yields a message for the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from codecomp_lsp.stages import Stage, parse_stages

MULTILINE_MODES = ("auto", "always", "never")
PROMPT_LAYOUTS = ("auto", "cached", "psm")
QUANTIZATION_MODES = ("auto", "none", "int8", "int4")
BACKENDS = ("local", "openai", "llamacpp")
MIN_CONFIDENCE_OFF = -100.0  # minConfidence at this value (its lowest) hides nothing


@dataclass(frozen=True)
class Settings:
    model: str | None = None  # None → the shipped codecomp-tiny
    device: str = "auto"
    dtype: str = "auto"
    quantization: str = "auto"  # auto (measured per machine), none, int8, int4 — weight-only, CPU
    speculative: bool = True  # prompt-lookup drafts verified in one forward (greedy only)
    fimTemplate: str = "auto"
    maxNewTokens: int = 64
    maxPromptTokens: int = 1536
    multiline: str = "auto"
    # Where the cursor line's typed text goes: after the FIM middle marker ("cached": typing
    # only appends, the cache stays valid), before the suffix as models are trained ("psm":
    # better answers, the suffix is prefilled again each keystroke), or "auto": cached as the
    # user types, psm for an invoked completion.
    promptLayout: str = "auto"
    candidates: int = 3  # menu completion; inline asks for 1 unless invoked explicitly
    temperature: float = 0.0
    enabledLanguages: tuple[str, ...] = ("*",)
    cacheMemoryMB: int = 1024
    kvReuse: bool = True
    # Prefill where the user is about to type (a document opens, the cursor rests, an edit pauses)
    # and compute the completion after an accepted suggestion, as background work.
    backgroundPrefill: bool = True
    timeBudgetMs: int = 5000  # a completion answers with what it has by then
    streaming: bool = False  # send codecomp/completionStream even without the client's capability
    allowPickle: bool = False
    trustRemoteCode: bool = False
    diagnostics: bool = True  # publish tree-sitter syntax errors
    diagnosticsDelayMs: int = 300  # after the last edit
    hoverTimeBudgetMs: int = 1500  # model explanation in a hover; 0 = structure only
    hoverMaxTokens: int = 48
    quickFixCandidates: int = 4  # model repairs sampled as one batch per syntax error
    quickFixTimeBudgetMs: int = 3000  # 0 = parser-derived repairs only
    codeActionMaxNewTokens: int = 256  # docstring, function body, code from a comment
    codeActionTimeBudgetMs: int = 20000
    translateTargets: tuple[str, ...] = ("python", "javascript", "typescript")  # code actions
    runGeneratedTests: bool = False  # run generated Python tests first, keep the passing ones
    denyPatterns: tuple[str, ...] = ()  # extra regexes: matching model output is never shown
    # Pipeline stages switched off (`codecomp.stages.Stage` names): for measuring each stage's
    # worth, not for everyday use.
    disabledStages: tuple[Stage, ...] = ()
    # Where the model runs: in this process ("local"), or a shared engine — an OpenAI-compatible
    # /v1/completions (vLLM, SGLang) or llama.cpp's server — at `endpoint`.
    backend: str = "local"
    endpoint: str = ""  # e.g. http://127.0.0.1:8000/v1 (openai), http://127.0.0.1:8080 (llamacpp)
    apiKeyEnv: str = ""  # the name of the environment variable holding the key, never the key
    remoteModel: str = ""  # the name the engine serves the model under ("": the first it lists)
    remoteTokenizer: str = ""  # where its tokenizer is here ("": remoteModel, or the engine's path)
    remoteTimeoutMs: int = 30000  # connecting, and waiting for the next bytes of an answer
    # A model load that has not finished by then is given up: the built-in model answers.
    loadTimeoutMs: int = 300000
    # Automatic suggestions whose mean token log-probability is below this are not shown; the
    # lowest value, MIN_CONFIDENCE_OFF, turns the check off (a greedy token is never that unlikely).
    minConfidence: float = -100.0
    # Append each inline suggestion's outcome (accepted, rejected, dismissed) with its context to
    # a local JSONL file (never sent anywhere): material for `codecomp finetune --feedback`.
    feedbackLog: bool = False
    feedbackLogPath: str = ""  # "": $XDG_DATA_HOME/codecomp/feedback.jsonl

    def language_enabled(self, language: str | None) -> bool:
        if "*" in self.enabledLanguages:
            return True
        return language is not None and language in self.enabledLanguages

    @property
    def model_key(self) -> tuple[Any, ...]:
        """The fields whose change needs the model reloaded."""
        return (
            self.model,
            self.device,
            self.dtype,
            self.quantization,
            self.fimTemplate,
            self.allowPickle,
            self.trustRemoteCode,
            self.backend,
            self.endpoint,
            self.apiKeyEnv,
            self.remoteModel,
            self.remoteTokenizer,
            self.remoteTimeoutMs,
        )


_INT_LIMITS: dict[str, tuple[int, int]] = {
    "maxNewTokens": (1, 1024),
    "maxPromptTokens": (64, 32768),
    "candidates": (1, 8),
    "cacheMemoryMB": (0, 65536),
    "timeBudgetMs": (0, 120000),
    "diagnosticsDelayMs": (0, 10000),
    "hoverTimeBudgetMs": (0, 60000),
    "hoverMaxTokens": (1, 512),
    "quickFixCandidates": (1, 8),
    "quickFixTimeBudgetMs": (0, 60000),
    "codeActionMaxNewTokens": (1, 2048),
    "codeActionTimeBudgetMs": (0, 120000),
    "remoteTimeoutMs": (100, 600000),
    "loadTimeoutMs": (1000, 3600000),
}


def _check(name: str, value: Any) -> Any:
    """Validate one field; raise ValueError with a user-facing reason."""
    if name in ("model",):
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string (a model directory, a .gguf file or a hub id)")
        return value
    if name in ("device", "dtype", "fimTemplate"):
        if not isinstance(value, str) or not value:
            raise ValueError("must be a non-empty string")
        return value
    if name in _INT_LIMITS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        limits = _INT_LIMITS[name]
        if not limits[0] <= value <= limits[1]:
            raise ValueError(f"must be between {limits[0]} and {limits[1]}")
        return value
    if name == "temperature":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
            raise ValueError("must be a number between 0 and 2")
        return float(value)
    if name == "minConfidence":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not MIN_CONFIDENCE_OFF <= value <= 0
        ):
            raise ValueError(f"must be a number between {MIN_CONFIDENCE_OFF:g} (off) and 0")
        return float(value)
    if name == "backend":
        if value not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(BACKENDS)}")
        return value
    if name == "endpoint":
        if not isinstance(value, str) or (value and not re.match(r"^https?://[^/\s]+", value)):
            raise ValueError("must be an http:// or https:// URL")
        return value
    if name == "apiKeyEnv":
        if not isinstance(value, str) or (value and not re.match(r"^[A-Za-z_]\w*$", value)):
            raise ValueError("must be the name of an environment variable (not the key itself)")
        return value
    if name in ("remoteModel", "remoteTokenizer", "feedbackLogPath"):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if name == "quantization":
        if value not in QUANTIZATION_MODES:
            raise ValueError(f"must be one of {', '.join(QUANTIZATION_MODES)}")
        return value
    if name == "multiline":
        if value not in MULTILINE_MODES:
            raise ValueError(f"must be one of {', '.join(MULTILINE_MODES)}")
        return value
    if name == "promptLayout":
        if value not in PROMPT_LAYOUTS:
            raise ValueError(f"must be one of {', '.join(PROMPT_LAYOUTS)}")
        return value
    if name == "enabledLanguages":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError('must be a list of language ids, or ["*"]')
        return tuple(value)
    if name == "translateTargets":
        known = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp")
        if not isinstance(value, list | tuple) or not all(v in known for v in value):
            raise ValueError(f"must be a list of languages among {', '.join(known)}")
        return tuple(dict.fromkeys(value))
    if name == "denyPatterns":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of regular expressions")
        for pattern in value:
            if not pattern:
                raise ValueError("an empty pattern would match everything")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return tuple(value)
    if name == "disabledStages":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of stage names")
        return tuple(sorted(parse_stages(value)))
    if name in (
        "kvReuse",
        "backgroundPrefill",
        "streaming",
        "allowPickle",
        "trustRemoteCode",
        "diagnostics",
        "speculative",
        "feedbackLog",
        "runGeneratedTests",
    ):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    raise ValueError("unknown setting")


@dataclass
class ParsedSettings:
    settings: Settings
    errors: list[str] = field(default_factory=list)


def parse_settings(raw: Any, base: Settings | None = None) -> ParsedSettings:
    """Apply a JSON object of settings over `base`; a wrapping {"codecomp": {...}} is unwrapped."""
    base = base or Settings()
    if raw is None:
        return ParsedSettings(base)
    if isinstance(raw, dict) and isinstance(raw.get("codecomp"), dict):
        raw = raw["codecomp"]
    if not isinstance(raw, dict):
        return ParsedSettings(
            base, [f"codecomp settings must be an object, got {type(raw).__name__}"]
        )
    known = {f.name for f in fields(Settings)}
    changes: dict[str, Any] = {}
    errors: list[str] = []
    for name, value in raw.items():
        if name not in known:
            errors.append(f"codecomp.{name}: unknown setting (ignored)")
            continue
        try:
            changes[name] = _check(name, value)
        except ValueError as exc:
            errors.append(f"codecomp.{name}: {exc}; using {getattr(base, name)!r}")
    return ParsedSettings(replace(base, **changes), errors)


LAYERS = ("initialization", "configuration", "overrides")


@dataclass
class SettingsLayers:
    """Where settings come from, lowest first: the defaults, the client's initializationOptions,
    its configuration (pulled with workspace/configuration or pushed with didChangeConfiguration;
    each one replaces the last), and the command line. `settings` is always all of them applied
    in that order; `update` is the one way to change a layer."""

    initialization: dict[str, Any] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = self._resolve()[0]

    def _resolve(self) -> tuple[Settings, dict[str, list[str]]]:
        settings, errors = Settings(), {}
        for name in LAYERS:
            parsed = parse_settings(getattr(self, name), settings)
            settings, errors[name] = parsed.settings, parsed.errors
        return settings, errors

    def update(self, layer: str, raw: Any) -> list[str]:
        """Replace one layer; the messages about that layer's bad values (the rest kept)."""
        if layer not in LAYERS:
            raise ValueError(f"unknown settings layer {layer!r}")
        if isinstance(raw, dict) and isinstance(raw.get("codecomp"), dict):
            raw = raw["codecomp"]
        if not isinstance(raw, dict):
            kind = type(raw).__name__
            return [f"codecomp settings must be an object, got {kind}"] if raw is not None else []
        setattr(self, layer, dict(raw))
        self.settings, errors = self._resolve()
        return errors[layer]
