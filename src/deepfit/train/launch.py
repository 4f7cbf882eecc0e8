"""Launch configs matching a training layout: a DeepSpeed JSON config, a ``torchrun``
command, and an ``accelerate`` FSDP config (as a dict to dump as YAML).

Key names follow DeepSpeed's configuration reference
(https://www.deepspeed.ai/docs/config-json/) and accelerate's ``fsdp_config``; tests load
the DeepSpeed config with DeepSpeed's own ``DeepSpeedConfig`` parser when it is installed.
Tensor and pipeline parallelism are the training framework's (Megatron-DeepSpeed /
Megatron-LM flags ``--tensor-model-parallel-size`` etc.), passed on the command line.
"""

from __future__ import annotations

import shlex
from typing import Any

from .estimate import TrainEstimate
from .layout import GPUS_PER_NODE
from .methods import Offload, Optimizer

_DS_OPTIMIZER = {
    Optimizer.ADAMW: "AdamW",
    Optimizer.ADAMW_BF16: "AdamW",
    Optimizer.ADAMW_8BIT: "AdamW",  # bitsandbytes' 8-bit AdamW is created in the script
    Optimizer.SGD: "SGD",
    Optimizer.ADAMW_FP32: "AdamW",
    Optimizer.ADAMW_8BIT_BF16: "AdamW",
    Optimizer.PAGED_ADAMW: "AdamW",
}
_BNB = (Optimizer.ADAMW_8BIT, Optimizer.ADAMW_8BIT_BF16, Optimizer.PAGED_ADAMW)


def deepspeed_config(est: TrainEstimate, lr: float = 3e-4) -> dict[str, Any]:
    """A DeepSpeed config for ``est``'s ZeRO stage, offload, batch and precision."""
    lay, w = est.layout, est.workload
    accum = est.step.micro_batches
    zero: dict[str, Any] = {
        "stage": lay.zero,
        "overlap_comm": True,
        "contiguous_gradients": True,
        "reduce_bucket_size": 500_000_000,
    }
    if lay.offload is Offload.CPU:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
        if lay.zero == 3:
            zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    if lay.zero == 3:
        zero["stage3_prefetch_bucket_size"] = 50_000_000
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    cfg: dict[str, Any] = {
        "train_micro_batch_size_per_gpu": w.micro_batch,
        "gradient_accumulation_steps": accum,
        "train_batch_size": w.micro_batch * accum * lay.dp,
        "gradient_clipping": 1.0,
        "bf16": {"enabled": est.recipe.optimizer is not Optimizer.ADAMW_FP32},
        "zero_optimization": zero,
        "steps_per_print": 10,
        "wall_clock_breakdown": False,
    }
    if est.recipe.optimizer not in _BNB:
        cfg["optimizer"] = {
            "type": _DS_OPTIMIZER[est.recipe.optimizer],
            "params": {"lr": lr, "weight_decay": 0.1},
        }
    if w.recompute.value != "none":
        cfg["activation_checkpointing"] = {
            "partition_activations": lay.tp > 1,
            "contiguous_memory_optimization": False,
        }
    return cfg


def torchrun_command(
    est: TrainEstimate, script: str = "train.py", config_path: str = "ds_config.json"
) -> str:
    """A ``torchrun`` command per node; the script gets the layout as Megatron-style flags."""
    lay = est.layout
    nodes = max(1, -(-lay.gpus // GPUS_PER_NODE))
    per_node = min(lay.gpus, GPUS_PER_NODE)
    args = ["torchrun", f"--nnodes={nodes}", f"--nproc-per-node={per_node}"]
    if nodes > 1:
        args += [
            "--node-rank=$NODE_RANK",
            "--rdzv-backend=c10d",
            "--rdzv-endpoint=$MASTER_ADDR:29500",
        ]
    args += [
        script,
        "--deepspeed",
        f"--deepspeed_config={config_path}",
        f"--tensor-model-parallel-size={lay.tp}",
        f"--pipeline-model-parallel-size={lay.pp}",
        f"--expert-model-parallel-size={lay.ep}",
        f"--seq-length={est.workload.seq_len}",
        f"--micro-batch-size={est.workload.micro_batch}",
        f"--global-batch-size={est.workload.micro_batch * est.step.micro_batches * lay.dp}",
        f"--recompute={est.workload.recompute.value}",
    ]
    if lay.tp > 1 and lay.sequence_parallel:
        args.append("--sequence-parallel")
    return " ".join(a if "$" in a else shlex.quote(a) for a in args)


def accelerate_fsdp_config(est: TrainEstimate) -> dict[str, Any]:
    """An ``accelerate launch --config_file`` FSDP config (dump as YAML) for ZeRO-3-like
    layouts: FULL_SHARD, or HYBRID_SHARD with ``hybrid``; ZeRO-2 maps to SHARD_GRAD_OP."""
    lay = est.layout
    strategy = {0: "NO_SHARD", 1: "SHARD_GRAD_OP", 2: "SHARD_GRAD_OP", 3: "FULL_SHARD"}[lay.zero]
    if lay.hybrid:
        strategy = "HYBRID_SHARD"
    nodes = max(1, -(-lay.gpus // GPUS_PER_NODE))
    return {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "FSDP",
        "mixed_precision": "bf16",
        "num_machines": nodes,
        "num_processes": lay.gpus,
        "fsdp_config": {
            "fsdp_sharding_strategy": strategy,
            "fsdp_offload_params": lay.offload is Offload.CPU,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_backward_prefetch": "BACKWARD_PRE",
            "fsdp_state_dict_type": "SHARDED_STATE_DICT",
            "fsdp_activation_checkpointing": est.workload.recompute.value == "full",
            "fsdp_use_orig_params": est.recipe.method.value != "full",
        },
    }
