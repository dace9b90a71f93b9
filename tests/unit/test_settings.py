"""parse_settings: valid values apply, every invalid value keeps its default and is reported."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from codecomp_lsp.settings import Settings, parse_settings

DEFAULTS = Settings()


def test_none_keeps_base_without_errors() -> None:
    parsed = parse_settings(None)
    assert parsed.settings == DEFAULTS
    assert parsed.errors == []
    base = Settings(maxNewTokens=7)
    assert parse_settings(None, base).settings is base


def test_empty_object() -> None:
    parsed = parse_settings({})
    assert parsed.settings == DEFAULTS
    assert parsed.errors == []


VALID: list[tuple[str, Any, Any]] = [
    ("model", "/models/x.gguf", "/models/x.gguf"),
    ("model", "", None),
    ("model", None, None),
    ("device", "cuda:0", "cuda:0"),
    ("dtype", "bfloat16", "bfloat16"),
    ("fimTemplate", "qwen", "qwen"),
    ("quantization", "int8", "int8"),
    ("quantization", "int4", "int4"),
    ("quantization", "none", "none"),
    ("speculative", False, False),
    ("maxNewTokens", 1, 1),
    ("maxNewTokens", 1024, 1024),
    ("maxPromptTokens", 64, 64),
    ("maxPromptTokens", 32768, 32768),
    ("candidates", 8, 8),
    ("cacheMemoryMB", 0, 0),
    ("cacheMemoryMB", 65536, 65536),
    ("timeBudgetMs", 0, 0),
    ("timeBudgetMs", 120000, 120000),
    ("temperature", 0, 0.0),
    ("temperature", 2, 2.0),
    ("temperature", 0.7, 0.7),
    ("multiline", "always", "always"),
    ("multiline", "never", "never"),
    ("multiline", "auto", "auto"),
    ("enabledLanguages", ["python", "rust"], ("python", "rust")),
    ("enabledLanguages", [], ()),
    ("enabledLanguages", ("go",), ("go",)),
    ("kvReuse", False, False),
    ("backgroundPrefill", False, False),
    ("streaming", True, True),
    ("allowPickle", True, True),
    ("trustRemoteCode", True, True),
    ("diagnostics", False, False),
    ("diagnosticsDelayMs", 0, 0),
    ("hoverTimeBudgetMs", 0, 0),
    ("hoverTimeBudgetMs", 60000, 60000),
    ("hoverMaxTokens", 512, 512),
    ("quickFixCandidates", 1, 1),
    ("quickFixTimeBudgetMs", 0, 0),
    ("codeActionMaxNewTokens", 2048, 2048),
    ("codeActionTimeBudgetMs", 120000, 120000),
    ("denyPatterns", [r"ACME-[0-9]{6}", "internal\\.corp"], (r"ACME-[0-9]{6}", "internal\\.corp")),
    ("denyPatterns", [], ()),
    ("translateTargets", ["go", "rust", "go"], ("go", "rust")),
    ("translateTargets", [], ()),
    ("runGeneratedTests", True, True),
    ("disabledStages", ["parse-check", "indentation"], ("indentation", "parse-check")),
    ("disabledStages", [], ()),
    ("promptLayout", "psm", "psm"),
    ("promptLayout", "cached", "cached"),
    ("backend", "openai", "openai"),
    ("backend", "llamacpp", "llamacpp"),
    ("endpoint", "http://10.0.0.5:8000/v1", "http://10.0.0.5:8000/v1"),
    ("endpoint", "https://llm.example.com", "https://llm.example.com"),
    ("apiKeyEnv", "TEAM_LLM_KEY", "TEAM_LLM_KEY"),
    ("remoteModel", "Qwen/Qwen2.5-Coder-0.5B", "Qwen/Qwen2.5-Coder-0.5B"),
    ("remoteTokenizer", "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b"),
    ("remoteTimeoutMs", 100, 100),
    ("loadTimeoutMs", 1000, 1000),
    ("minConfidence", -1.5, -1.5),
    ("minConfidence", -100, -100.0),
    ("minConfidence", 0, 0.0),
    ("feedbackLog", True, True),
    ("feedbackLogPath", "/tmp/feedback.jsonl", "/tmp/feedback.jsonl"),
]


@pytest.mark.parametrize(("name", "value", "expected"), VALID)
def test_valid_value_is_applied(name: str, value: Any, expected: Any) -> None:
    parsed = parse_settings({name: value})
    assert parsed.errors == []
    got = getattr(parsed.settings, name)
    assert got == expected
    assert type(got) is type(expected)


def test_temperature_int_becomes_float() -> None:
    assert isinstance(parse_settings({"temperature": 1}).settings.temperature, float)


INVALID: list[tuple[str, Any]] = [
    ("model", 3),
    ("model", ["a"]),
    ("device", ""),
    ("device", None),
    ("device", 0),
    ("dtype", 16),
    ("fimTemplate", ""),
    ("quantization", "int2"),
    ("quantization", True),
    ("speculative", "yes"),
    ("maxNewTokens", 0),
    ("maxNewTokens", 1025),
    ("maxNewTokens", 64.0),
    ("maxNewTokens", "64"),
    ("maxNewTokens", True),
    ("maxNewTokens", None),
    ("maxPromptTokens", 63),
    ("maxPromptTokens", 32769),
    ("candidates", 0),
    ("candidates", 9),
    ("cacheMemoryMB", -1),
    ("cacheMemoryMB", 65537),
    ("timeBudgetMs", -1),
    ("timeBudgetMs", 120001),
    ("temperature", -0.1),
    ("temperature", 2.5),
    ("temperature", "0.5"),
    ("temperature", True),
    ("temperature", None),
    ("multiline", "sometimes"),
    ("multiline", True),
    ("multiline", None),
    ("enabledLanguages", "python"),
    ("enabledLanguages", ["python", 3]),
    ("enabledLanguages", {"python": True}),
    ("enabledLanguages", None),
    ("kvReuse", 1),
    ("backgroundPrefill", "off"),
    ("kvReuse", "true"),
    ("streaming", None),
    ("allowPickle", 0),
    ("trustRemoteCode", "yes"),
    ("diagnostics", "on"),
    ("diagnosticsDelayMs", 10001),
    ("hoverTimeBudgetMs", -1),
    ("hoverTimeBudgetMs", 1.5),
    ("hoverMaxTokens", 0),
    ("quickFixCandidates", 9),
    ("quickFixTimeBudgetMs", "fast"),
    ("codeActionMaxNewTokens", 0),
    ("codeActionTimeBudgetMs", 120001),
    ("denyPatterns", "ACME-.*"),
    ("translateTargets", ["cobol"]),
    ("translateTargets", "python"),
    ("runGeneratedTests", "yes"),
    ("denyPatterns", ["ok", "(unclosed"]),
    ("denyPatterns", [""]),
    ("denyPatterns", [3]),
    ("disabledStages", ["no-such-stage"]),
    ("disabledStages", "indentation"),
    ("promptLayout", "spm"),
    ("backend", "vllm"),
    ("endpoint", "localhost:8000"),
    ("endpoint", "ftp://host/v1"),
    ("apiKeyEnv", "sk-abc123-real-key"),
    ("apiKeyEnv", 42),
    ("remoteModel", ["a"]),
    ("remoteTokenizer", None),
    ("remoteTimeoutMs", 99),
    ("loadTimeoutMs", 999),
    ("minConfidence", 0.5),
    ("minConfidence", -101),
    ("minConfidence", None),
    ("minConfidence", "-2"),
    ("feedbackLog", "yes"),
    ("feedbackLogPath", 3),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_value_keeps_default_and_reports(name: str, value: Any) -> None:
    parsed = parse_settings({name: value})
    assert getattr(parsed.settings, name) == getattr(DEFAULTS, name)
    assert parsed.settings == DEFAULTS
    assert len(parsed.errors) == 1
    message = parsed.errors[0]
    assert message.startswith(f"codecomp.{name}: ")
    assert f"using {getattr(DEFAULTS, name)!r}" in message


def test_every_field_has_a_valid_and_an_invalid_case() -> None:
    names = {f.name for f in fields(Settings)}
    assert names == {n for n, _, _ in VALID}
    assert names == {n for n, _ in INVALID}


def test_invalid_value_keeps_the_base_value_not_the_default() -> None:
    base = Settings(maxNewTokens=200, multiline="never")
    parsed = parse_settings({"maxNewTokens": -3, "multiline": "x"}, base)
    assert parsed.settings.maxNewTokens == 200
    assert parsed.settings.multiline == "never"
    assert any("using 200" in e for e in parsed.errors)
    assert any("using 'never'" in e for e in parsed.errors)


def test_range_message_names_the_limits() -> None:
    (message,) = parse_settings({"candidates": 20}).errors
    assert "between 1 and 8" in message


def test_good_and_bad_fields_mix() -> None:
    parsed = parse_settings(
        {"maxNewTokens": 32, "candidates": "many", "multiline": "never", "kvReuse": "no"}
    )
    assert parsed.settings.maxNewTokens == 32
    assert parsed.settings.multiline == "never"
    assert parsed.settings.candidates == DEFAULTS.candidates
    assert parsed.settings.kvReuse is DEFAULTS.kvReuse
    assert sorted(e.split(":")[0] for e in parsed.errors) == [
        "codecomp.candidates",
        "codecomp.kvReuse",
    ]


def test_unknown_keys_are_reported_and_ignored() -> None:
    parsed = parse_settings({"maxNewTokens": 10, "colour": "blue", "language_enabled": True})
    assert parsed.settings == Settings(maxNewTokens=10)
    assert len(parsed.errors) == 2
    assert "codecomp.colour: unknown setting (ignored)" in parsed.errors
    assert any(e.startswith("codecomp.language_enabled:") for e in parsed.errors)


def test_wrapped_section_is_unwrapped() -> None:
    parsed = parse_settings({"codecomp": {"maxNewTokens": 12, "temperature": 0.5}})
    assert parsed.errors == []
    assert parsed.settings.maxNewTokens == 12
    assert parsed.settings.temperature == 0.5


def test_wrapped_section_errors_are_reported() -> None:
    parsed = parse_settings({"codecomp": {"maxNewTokens": "x", "nope": 1}})
    assert parsed.settings == DEFAULTS
    assert len(parsed.errors) == 2


def test_codecomp_key_with_non_object_value_is_not_unwrapped() -> None:
    parsed = parse_settings({"codecomp": 5})
    assert parsed.settings == DEFAULTS
    assert parsed.errors == ["codecomp.codecomp: unknown setting (ignored)"]


@pytest.mark.parametrize(
    ("raw", "type_name"), [([1, 2], "list"), ("fast", "str"), (3, "int"), (True, "bool")]
)
def test_non_object_input(raw: Any, type_name: str) -> None:
    base = Settings(candidates=2)
    parsed = parse_settings(raw, base)
    assert parsed.settings is base
    assert parsed.errors == [f"codecomp settings must be an object, got {type_name}"]


def test_base_is_not_mutated() -> None:
    base = Settings()
    parsed = parse_settings({"maxNewTokens": 5}, base)
    assert base.maxNewTokens == 64
    assert parsed.settings is not base


def test_invalid_deny_pattern_names_the_pattern_and_keeps_the_default() -> None:
    (message,) = parse_settings({"denyPatterns": ["fine", "[a-"]}).errors
    assert message.startswith("codecomp.denyPatterns: invalid regular expression '[a-'")
    assert message.endswith("using ()")


def test_language_enabled() -> None:
    assert Settings().language_enabled(None)
    assert Settings().language_enabled("cobol")
    s = parse_settings({"enabledLanguages": ["python"]}).settings
    assert s.language_enabled("python")
    assert not s.language_enabled("rust")
    assert not s.language_enabled(None)


def test_model_key_changes_only_for_model_fields() -> None:
    base = Settings()
    assert parse_settings({"maxNewTokens": 5}, base).settings.model_key == base.model_key
    assert parse_settings({"dtype": "float16"}, base).settings.model_key != base.model_key
    assert parse_settings({"trustRemoteCode": True}, base).settings.model_key != base.model_key


def test_layers_apply_in_order_and_each_replaces_itself() -> None:
    from codecomp_lsp.settings import SettingsLayers

    layers = SettingsLayers(overrides={"model": "cli-model"})
    assert layers.settings.model == "cli-model"
    assert layers.update("initialization", {"candidates": 2, "model": "from-client"}) == []
    assert layers.settings.candidates == 2
    assert layers.settings.model == "cli-model"  # the command line wins
    assert layers.update("configuration", {"codecomp": {"candidates": 5, "maxNewTokens": 9}}) == []
    assert (layers.settings.candidates, layers.settings.maxNewTokens) == (5, 9)
    # A new configuration replaces the last one: what it leaves out falls back to lower layers.
    layers.update("configuration", {"maxNewTokens": 10})
    assert (layers.settings.candidates, layers.settings.maxNewTokens) == (2, 10)


def test_layer_errors_name_the_value_kept_from_below() -> None:
    from codecomp_lsp.settings import SettingsLayers

    layers = SettingsLayers(initialization={"candidates": 4})
    errors = layers.update("configuration", {"candidates": "many", "bogus": 1})
    assert any("candidates" in e and "using 4" in e for e in errors)
    assert any("bogus" in e for e in errors)
    assert layers.settings.candidates == 4
    assert layers.update("configuration", "nope") == [
        "codecomp settings must be an object, got str"
    ]
    assert layers.update("configuration", None) == []
    with pytest.raises(ValueError, match="unknown settings layer"):
        layers.update("workspace", {})
