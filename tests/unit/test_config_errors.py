"""Malformed and hostile configs give one clear BadInputError, never a traceback."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepfit.errors import (
    BadInputError,
    ConfigError,
    UnknownModelError,
    UnsupportedArchitectureError,
)
from deepfit.models import load_model, model_from_config
from deepfit.models.config import parse_config_text

from ..conftest import bundled_config_files, load_json
from ..strategies import configs

GOOD = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 100,
}


def _with(**over: Any) -> dict[str, Any]:
    cfg = dict(GOOD)
    for key, value in over.items():
        if value is ...:
            cfg.pop(key)
        else:
            cfg[key] = value
    return cfg


@pytest.mark.parametrize(
    "over, field",
    [
        ({"hidden_size": ...}, "hidden_size"),
        ({"num_hidden_layers": ...}, "num_hidden_layers"),
        ({"vocab_size": ...}, "vocab_size"),
        ({"hidden_size": "4096"}, "hidden_size"),
        ({"hidden_size": 64.5}, "hidden_size"),
        ({"hidden_size": True}, "hidden_size"),
        ({"hidden_size": -64}, "hidden_size"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_hidden_layers": 10**12}, "num_hidden_layers"),
        ({"vocab_size": 2**40}, "vocab_size"),
        ({"num_key_value_heads": 3}, "num_key_value_heads"),
        ({"intermediate_size": [1, 2]}, "intermediate_size"),
        ({"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
        ({"rope_scaling": "linear"}, "rope_scaling"),
        ({"rope_theta": -1.0}, "rope_theta"),
    ],
)
def test_bad_fields_name_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        model_from_config(_with(**over))


def test_unknown_family_names_it_and_says_how_to_add() -> None:
    cfg = _with(model_type="mamba", architectures=["MambaForCausalLM"])
    with pytest.raises(UnsupportedArchitectureError) as info:
        model_from_config(cfg)
    assert "mamba" in info.value.message and "MambaForCausalLM" in info.value.message
    assert "FAMILIES" in info.value.hint


def test_missing_model_type_names_architectures() -> None:
    with pytest.raises(ConfigError, match="LlamaForCausalLM"):
        model_from_config(_with(model_type=..., architectures=["LlamaForCausalLM"]))


def test_moe_topk_above_experts() -> None:
    cfg = _with(model_type="mixtral", num_local_experts=2, num_experts_per_tok=4)
    with pytest.raises(ConfigError, match="num_experts_per_tok"):
        model_from_config(cfg)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2, 3]",
        "null",
        '"a string"',
        '{"hidden_size": NaN}',
        '{"a": Infinity}',
        "{" * 100_000,
        '{"model_type": "llama"',
    ],
)
def test_not_a_config(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config_text(text, "input")


def test_huge_file_is_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "config.json"
    with big.open("wb") as fh:  # sparse: 1 GiB on paper, no disk used
        fh.truncate(1 << 30)
    with pytest.raises(ConfigError, match="larger than any model config"):
        load_model(str(big))


def test_path_to_folder_and_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(GOOD))
    assert (
        load_model(str(tmp_path)).params.total
        == load_model(str(tmp_path / "config.json")).params.total
    )


def test_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load_model(str(tmp_path))


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ConfigError):
        load_model(str(path))


@pytest.mark.parametrize("name", ["", "   ", "no-such-model", "org/not-bundled", "a\x00b"])
def test_unknown_names(name: str) -> None:
    with pytest.raises(UnknownModelError):
        load_model(name)


def test_known_name_without_bundled_config_asks_for_hub() -> None:
    with pytest.raises(UnknownModelError, match="not bundled") as info:
        load_model("deepseek-r1-14b")
    assert "--hub" in info.value.hint


def test_auto_map_is_data_only() -> None:
    # custom code named by the config is never imported or run; the shapes are still read
    cfg = _with(auto_map={"AutoModelForCausalLM": "evil.Model"}, trust_remote_code=True)
    assert model_from_config(cfg).params.total > 0


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(configs(), st.data())
def test_mutated_configs_never_crash(cfg: dict[str, Any], data: st.DataObject) -> None:
    """Any key replaced, dropped or added: a correct count or a BadInputError, nothing else."""
    keys = sorted(cfg)
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "add":
            cfg[data.draw(st.text(max_size=20))] = data.draw(json_values)
        elif keys:
            key = data.draw(st.sampled_from(keys))
            if action == "drop":
                cfg.pop(key, None)
            else:
                cfg[key] = data.draw(json_values)
    try:
        total = model_from_config(cfg).params.total
    except BadInputError:
        return
    assert total > 0


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_never_crash(raw: bytes) -> None:
    with contextlib.suppress(BadInputError):
        model_from_config(parse_config_text(raw, "input"))


@pytest.mark.parametrize("path", bundled_config_files()[:3], ids=lambda p: p.stem)
def test_truncated_real_configs(path: Path) -> None:
    text = path.read_text()
    for cut in range(0, len(text), max(1, len(text) // 40)):
        try:
            model_from_config(parse_config_text(text[:cut], "input"))
        except BadInputError:
            continue


def test_real_configs_parse() -> None:
    for path in bundled_config_files():
        assert model_from_config(load_json(path)).params.total > 0
