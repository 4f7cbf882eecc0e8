"""Parameter counts against independent truth.

1. The counts transformers measured on the meta device (``param_counts_*.csv``, copied from
   shared/model-configs/param-counts.csv and from the configs added later), exactly.
2. When transformers and torch are installed (the ``validate`` extra), the same measurement
   again, live, for every bundled config.
3. Published active-parameter figures of MoE models, within 2%, sources cited.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deepfit.models import count_params, model_from_config

from ..conftest import bundled_config_files, hf_id, load_json

HERE = Path(__file__).parent


def _measured() -> dict[str, int]:
    out: dict[str, int] = {}
    for table in sorted(HERE.glob("param_counts_*.csv")):
        with table.open() as fh:
            for row in csv.DictReader(fh):
                value = row.get("total_params_exact(meta)", "").strip()
                if value:
                    out[row["model"]] = int(value)
    return out


MEASURED = _measured()
CONFIGS = bundled_config_files()


def test_every_bundled_config_has_a_measured_count() -> None:
    missing = [hf_id(p) for p in CONFIGS if hf_id(p) not in MEASURED]
    assert not missing, f"no transformers-measured count for {missing}"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_total_equals_transformers_count(path: Path) -> None:
    model = model_from_config(load_json(path), hf_id(path))
    assert model.params.total == MEASURED[hf_id(path)]


# Published active parameters per token. Convention (ours and, within rounding, the
# publishers'): all non-routed parameters including embeddings and head, plus the routed
# experts a token is sent to.
PUBLISHED_ACTIVE = {
    # Mistral AI, "Mixtral of experts" (2023-12-11) and arXiv:2401.04088: 12.9B active
    "mistralai/Mixtral-8x7B-v0.1": 12.9e9,
    # DeepSeek-V2 model card / arXiv:2405.04434: 236B total, 21B activated
    "deepseek-ai/DeepSeek-V2": 21e9,
    # DeepSeek-V3 model card / arXiv:2412.19437: 671B total, 37B activated
    "deepseek-ai/DeepSeek-V3": 37e9,
    "deepseek-ai/DeepSeek-R1": 37e9,
    # Qwen3-30B-A3B model card: 30.5B total, 3.3B activated
    "Qwen/Qwen3-30B-A3B": 3.3e9,
    # DeepSeekMoE, arXiv:2401.06066: DeepSeekMoE 16B, 2.8B activated
    "deepseek-ai/deepseek-moe-16b-base": 2.8e9,
}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED_ACTIVE))
def test_active_matches_published(model_id: str) -> None:
    path = next(p for p in CONFIGS if hf_id(p) == model_id)
    active = count_params(model_from_config(load_json(path), model_id).arch).active
    published = PUBLISHED_ACTIVE[model_id]
    assert abs(active - published) / published <= 0.02, (active, published)


def test_deepseek_v3_mtp_reported_apart() -> None:
    """DeepSeek-V3's card: 671B main model, 685B on the Hub with the MTP module, whose
    shards store their own copy of embedding and head. Its unique weights are one MoE
    layer, a 2h x h projection and three norms."""
    path = next(p for p in CONFIGS if hf_id(p) == "deepseek-ai/DeepSeek-V3")
    p = model_from_config(load_json(path), "v3").params
    h, vocab = 7168, 129280
    hub_total = p.total + p.mtp + 2 * vocab * h
    assert abs(hub_total - 685e9) / 685e9 < 0.005
    assert abs(p.total - 671e9) / 671e9 < 0.005


def _meta_count(config: dict[str, object]) -> int:
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("transformers")
    cfg = dict(config)
    model_type = str(cfg.pop("model_type"))
    causal = tf.models.auto.modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    text = cfg.get("text_config")
    if model_type not in causal and isinstance(text, dict):
        # a multimodal wrapper with no causal-LM class (kimi_k25): its language model, which
        # is what deepfit sizes; Kimi's kimi_k2 text model is DeepSeek-V3's classes
        cfg = dict(text)
        model_type = str(cfg.pop("model_type"))
        model_type = {"kimi_k2": "deepseek_v3"}.get(model_type, model_type)
    for key in ("auto_map", "architectures", "quantization_config"):
        cfg.pop(key, None)
    if model_type not in tf.models.auto.configuration_auto.CONFIG_MAPPING:
        pytest.skip(f"transformers has no native class for model_type {model_type}")
    conf = tf.AutoConfig.for_model(model_type, **cfg)
    with torch.device("meta"):
        model = tf.AutoModelForCausalLM.from_config(conf)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_total_equals_live_transformers_count(path: Path) -> None:
    config = load_json(path)
    assert model_from_config(config, hf_id(path)).params.total == _meta_count(config)
