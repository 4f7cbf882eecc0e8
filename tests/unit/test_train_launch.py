"""Launch configs: DeepSpeed's own parser accepts the config (when DeepSpeed is installed)."""

from __future__ import annotations

import shlex
from types import SimpleNamespace

import pytest

from deepfit.hardware import load_gpu
from deepfit.models import load_model
from deepfit.train import Offload, TrainEstimate, estimate_training, launch


def _est(zero: int, offload: Offload = Offload.NONE, gpus: int = 16) -> TrainEstimate:
    return estimate_training(
        load_model("deepseek-7b"), load_gpu("A100-80GB"), gpus, zero=zero, offload=offload
    )


@pytest.mark.parametrize(
    ("zero", "offload"),
    [(0, Offload.NONE), (1, Offload.NONE), (2, Offload.CPU), (3, Offload.NONE), (3, Offload.CPU)],
)
def test_deepspeed_parses_the_config(
    zero: int, offload: Offload, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_mod = pytest.importorskip("deepspeed.runtime.config")
    est = _est(zero, offload)
    cfg = launch.deepspeed_config(est)
    # no process group here: tell DeepSpeed the data-parallel size the layout has
    monkeypatch.setattr(config_mod.dist, "get_rank", lambda *a, **k: 0)
    mpu = SimpleNamespace(get_data_parallel_world_size=lambda: est.layout.dp)
    parsed = config_mod.DeepSpeedConfig(cfg, mpu=mpu)
    assert parsed.zero_optimization_stage == zero
    assert parsed.train_batch_size == est.step.tokens // est.workload.seq_len
    off = parsed.zero_config.offload_optimizer
    device = getattr(off, "device", None)
    assert (str(getattr(device, "value", device)) == "cpu") == (offload is Offload.CPU)


def test_deepspeed_keys_are_documented() -> None:
    """Without DeepSpeed, at least the keys are the documented ones."""
    cfg = launch.deepspeed_config(_est(3, Offload.CPU))
    documented = {
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "gradient_clipping",
        "bf16",
        "zero_optimization",
        "optimizer",
        "steps_per_print",
        "wall_clock_breakdown",
        "activation_checkpointing",
    }
    assert set(cfg) <= documented
    assert set(cfg["zero_optimization"]) <= {
        "stage",
        "overlap_comm",
        "contiguous_gradients",
        "reduce_bucket_size",
        "offload_optimizer",
        "offload_param",
        "stage3_prefetch_bucket_size",
        "stage3_gather_16bit_weights_on_model_save",
    }


def test_torchrun_and_fsdp() -> None:
    est = _est(3, gpus=16)
    cmd = launch.torchrun_command(est)
    words = shlex.split(cmd.replace("$", ""))
    assert words[:3] == ["torchrun", "--nnodes=2", "--nproc-per-node=8"]
    assert "--tensor-model-parallel-size=1" in words
    fsdp = launch.accelerate_fsdp_config(est)
    assert fsdp["num_processes"] == 16
    assert fsdp["fsdp_config"]["fsdp_sharding_strategy"] == "FULL_SHARD"
