"""The Hub path: only config.json, size-capped, offline-aware, read as data only.
huggingface_hub is replaced by a fake here: the tests never touch the network."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from deepfit.errors import OfflineError, UnknownModelError
from deepfit.models import load_model

CONFIG = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "vocab_size": 100,
    "auto_map": {"AutoModel": "evil.Code"},
}


class _Meta:
    def __init__(self, size: int) -> None:
        self.size = size


def _fake_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, size: int | None = None, fail: bool = False
) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG))

    def download(repo_id: str, filename: str, **_: Any) -> str:
        calls.append((repo_id, filename))
        if fail:
            raise ConnectionError("no route to host")
        return str(path)

    module = types.ModuleType("huggingface_hub")
    module.hf_hub_download = download  # type: ignore[attr-defined]
    module.hf_hub_url = lambda repo, name, revision=None: f"hub://{repo}/{name}"  # type: ignore[attr-defined]
    module.get_hf_file_metadata = lambda url, timeout: _Meta(  # type: ignore[attr-defined]
        size if size is not None else path.stat().st_size
    )
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("DEEPFIT_OFFLINE", raising=False)
    return calls


def test_fetches_only_config_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _fake_hub(monkeypatch, tmp_path)
    model = load_model("someorg/tiny-llama", hub=True)
    assert calls == [("someorg/tiny-llama", "config.json")]
    assert model.origin == "hub" and model.params.total > 0


def test_not_asked_means_no_fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _fake_hub(monkeypatch, tmp_path)
    with pytest.raises(UnknownModelError, match="not in the bundled catalogue"):
        load_model("someorg/tiny-llama")
    assert calls == []


def test_oversized_config_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _fake_hub(monkeypatch, tmp_path, size=50 * 1024 * 1024)
    with pytest.raises(OfflineError, match="not a model config"):
        load_model("someorg/huge", hub=True)
    assert calls == []


def test_network_failure_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_hub(monkeypatch, tmp_path, fail=True)
    with pytest.raises(OfflineError, match=r"cannot fetch config\.json"):
        load_model("someorg/tiny-llama", hub=True)


def test_missing_huggingface_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(OfflineError, match="huggingface_hub is not installed"):
        load_model("someorg/tiny-llama", hub=True)


def test_known_name_without_bundled_config_uses_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _fake_hub(monkeypatch, tmp_path)
    load_model("deepseek-33b", hub=True)
    assert calls == [("deepseek-ai/deepseek-coder-33b-base", "config.json")]
