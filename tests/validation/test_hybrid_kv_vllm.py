"""KV capacity of hybrid-attention models against vLLM's own logs.

vLLM 0.19's hybrid KV-cache manager cuts each attention type's layers into groups of the
smallest type's layer count; its logged "KV cache GiB" over "KV cache tokens" is the bytes
per token of those padded groups. The configs below are transformers' printed configs
(dims as published; the multimodal wrappers are sized by their language model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deepfit import estimate_memory, load_gpu, model_from_config
from deepfit.memory.groundtruth import read_memory_csv
from deepfit.units import GiB

HERE = Path(__file__).parent
LOGS = {d.config_id: d for d in read_memory_csv(HERE / "data" / "memory.csv")}

# google/gemma-3-4b-it, AutoConfig printed in code-index file 35028756701
GEMMA3_4B: dict[str, Any] = {
    "model_type": "gemma3",
    "torch_dtype": "bfloat16",
    "text_config": {
        "model_type": "gemma3_text",
        "head_dim": 256,
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "max_position_embeddings": 131072,
        "num_attention_heads": 8,
        "num_hidden_layers": 34,
        "num_key_value_heads": 4,
        "sliding_window": 1024,
        "sliding_window_pattern": 6,
        "vocab_size": 262208,
    },
}
# meta-llama/Llama-4-Scout-17B-16E, Llama4Config printed in code-index file 41112263523
LLAMA4_SCOUT: dict[str, Any] = {
    "model_type": "llama4",
    "text_config": {
        "model_type": "llama4_text",
        "attention_chunk_size": 8192,
        "head_dim": 128,
        "hidden_size": 5120,
        "interleave_moe_layer_step": 1,
        "intermediate_size": 8192,
        "intermediate_size_mlp": 16384,
        "max_position_embeddings": 262144,
        "num_attention_heads": 40,
        "num_experts_per_tok": 1,
        "num_hidden_layers": 48,
        "num_key_value_heads": 8,
        "num_local_experts": 16,
        "torch_dtype": "bfloat16",
        "vocab_size": 202048,
    },
}


@pytest.mark.parametrize(
    ("config_id", "config", "padded_layers"),
    [
        # 5 global + 29 sliding layers: 7 groups of 5 = 35 layers' pages per token
        ("LLMD-11", GEMMA3_4B, 35),
        # 12 global (NoPE) + 36 chunked layers: 4 groups of 12, no padding
        ("LLMD-26", LLAMA4_SCOUT, 48),
    ],
)
def test_logged_kv_bytes_per_token(
    config_id: str, config: dict[str, Any], padded_layers: int
) -> None:
    dep = LOGS[config_id]
    model = model_from_config(config)
    est = estimate_memory(
        model,
        load_gpu("H100"),
        gpus=dep.tp,
        tp=dep.tp,
        context=dep.max_model_len or 8192,
        memory_fraction=dep.memory_fraction,
    )
    logged = dep.metrics["kv_cache_GiB"] * GiB / dep.metrics["kv_cache_tokens"]
    ours = est.stages[0].kv_bytes_per_token
    assert ours == pytest.approx(logged, rel=0.002)
    text = config["text_config"]
    layer = 2 * text["num_key_value_heads"] / dep.tp * text["head_dim"] * 2
    assert ours == padded_layers * layer
