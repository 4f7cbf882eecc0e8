"""Peak memory per framework and the step-time pieces, against hand derivations."""

from __future__ import annotations

import pytest

from deepfit.hardware import load_gpu
from deepfit.train import LoraConfig, Method, Recipe, Recompute, Workload, estimate_training
from deepfit.train import training_model as model
from deepfit.train.framework import Framework, Runtime
from deepfit.train.methods import Optimizer
from deepfit.train.timing import cluster_network

A100 = load_gpu("A100-80GB")


def test_fsdp_lora_holds_its_shard_and_the_whole_gathered_base() -> None:
    # Llama 2 7B: 6,738,415,616 bf16 parameters; LoRA r=8 on q and v: 32 layers x 2 x
    # 8 x (4096 + 4096) adapter parameters, bf16 too
    whole = (6_738_415_616 + 32 * 2 * 8 * 8192) * 2
    recipe = Recipe(method=Method.LORA, lora=LoraConfig(8, "qv"))
    w = Workload(seq_len=1024, global_batch_tokens=2048, recompute=Recompute.FULL)
    fsdp = estimate_training(
        model("meta-llama/Llama-2-7b-hf"), A100, 2, recipe=recipe, workload=w, zero=3,
        runtime=Runtime(Framework.FSDP),
    )  # fmt: skip
    assert fsdp.per_gpu.weights_bytes == pytest.approx(whole * 1.5, rel=1e-6)
    ds = estimate_training(
        model("meta-llama/Llama-2-7b-hf"), A100, 2, recipe=recipe, workload=w, zero=3,
        runtime=Runtime(Framework.DEEPSPEED),
    )  # fmt: skip
    assert ds.per_gpu.weights_bytes < whole  # DeepSpeed re-partitions the frozen base


def test_optimizer_in_backward_keeps_only_the_largest_gradient() -> None:
    # Llama 3.2 3B ties its 128,256 x 3,072 embedding: the largest gradient, bf16
    w = Workload(seq_len=4096, micro_batch=2, global_batch_tokens=8192, recompute=Recompute.FULL)
    recipe = Recipe(optimizer=Optimizer.ADAMW_BF16)
    rt = Runtime(Framework.TORCHTUNE, optimizer_in_backward=True)
    est = estimate_training(
        model("meta-llama/Llama-3.2-3B"), A100, 1, recipe=recipe, workload=w, runtime=rt
    )
    assert est.peak.step == 128_256 * 3_072 * 2
    assert est.peak.step_temp == 0


def test_foreach_adamw_step_adds_one_full_size_temporary() -> None:
    w = Workload(seq_len=512, global_batch_tokens=512, recompute=Recompute.FULL)
    llama = model("meta-llama/Llama-3.2-3B")
    rt = Runtime(Framework.HF)  # PyTorch's multi-tensor AdamW
    est = estimate_training(llama, A100, 1, workload=w, runtime=rt)
    assert est.peak.step_temp == pytest.approx(4 * est.states.trainable_params)
    fused = estimate_training(llama, A100, 1, workload=w, runtime=Runtime(Framework.TORCHTUNE))
    assert fused.peak.step_temp == 0


def test_pipeline_schedules() -> None:
    w = dict(seq_len=2048, global_batch_tokens=2048 * 8, recompute=Recompute.FULL)
    llama = model("meta-llama/Llama-2-70b-hf")
    one = estimate_training(llama, A100, 8, pp=8, workload=Workload(**w))  # type: ignore[arg-type]
    m = one.step.micro_batches
    assert m == 8
    assert one.step.bubble_s == pytest.approx(one.step.compute_s * 7 / 8)
    inter = Workload(pipeline_schedule="interleaved", virtual_stages=4, **w)  # type: ignore[arg-type]
    est = estimate_training(llama, A100, 8, pp=8, workload=inter)
    assert est.step.bubble_s == pytest.approx(est.step.compute_s * 7 / (8 * 4))
    zb = Workload(pipeline_schedule="zero-bubble", **w)  # type: ignore[arg-type]
    assert estimate_training(llama, A100, 8, pp=8, workload=zb).step.bubble_s == 0


def test_cluster_network_per_generation() -> None:
    # one HCA per GPU: HDR 200 Gb/s on A100 clusters, NDR 400 Gb/s on H100 clusters
    assert cluster_network(A100) == 25e9
    assert cluster_network(load_gpu("H100")) == 50e9


def test_fits_is_answered_against_nvml_level_use() -> None:
    est = estimate_training(model("deepseek-7b"), A100, 8, zero=3)
    assert est.reserved_bytes > est.per_gpu.total_bytes
    assert est.nvml_bytes > est.reserved_bytes
    assert est.margin_bytes == est.gpu_memory_bytes - est.nvml_bytes


H200 = load_gpu("H200")


def test_hf_loss_keeps_twelve_bytes_per_logit() -> None:
    # transformers' ForCausalLMLoss pads the labels (no shifted copy of the logits) and the
    # Trainer drops the bf16 logits before backward: log-softmax's fp32 output, its fp32
    # gradient and the fp32 input gradient remain, 12 B per logit
    w = Workload(seq_len=4096, micro_batch=2, global_batch_tokens=8192, recompute=Recompute.FULL)
    recipe = Recipe(optimizer=Optimizer.ADAMW_BF16)
    est = estimate_training(
        model("meta-llama/Llama-3.2-1B"), H200, 1, recipe=recipe, workload=w,
        runtime=Runtime(Framework.HF),
    )  # fmt: skip
    assert est.peak.loss == 12 * 8192 * 128_256


def test_hf_autocast_holds_fp32_weights_and_a_bf16_copy_of_each_matmul_weight() -> None:
    # Llama 3.2 1B: 1,235,814,400 parameters, 33 RMSNorm weights of 2,048 (two per layer and
    # the final one) that autocast does not cast; the tied embedding is cast once for the head
    llama = model("meta-llama/Llama-3.2-1B")
    w = Workload(seq_len=1024, global_batch_tokens=1024, recompute=Recompute.NONE)
    est = estimate_training(llama, H200, 1, workload=w, runtime=Runtime(Framework.HF))
    params = 1_235_814_400
    assert est.peak.autocast_cache == 2 * (params - 33 * 2048)
    assert est.per_gpu.weights_bytes == 4 * params  # fp32 weights under autocast
    assert est.per_gpu.gradients_bytes == 4 * params
    assert est.per_gpu.optimizer_bytes == 8 * params  # m and v only: no separate master
    fsdp = estimate_training(llama, H200, 1, workload=w, runtime=Runtime(Framework.FSDP))
    assert fsdp.peak.autocast_cache == 0 and fsdp.per_gpu.weights_bytes == 2 * params


def test_peft_drops_out_once_per_adapted_projection() -> None:
    # PEFT: q, k, v, o, gate, up and down each keep a 1-byte mask and a bf16 copy of their
    # input (3 B/element), and no frozen base linear keeps its input. Llama 3.1 8B per token
    # and layer: 3 x (5 x 4096 + 4096 + 14336) versus LitGPT-style shared inputs
    # 3 x (4096 + 4096 + 4096 + 14336) plus the kept base inputs 2 x (2 x 4096 + 14336)
    llama = model("meta-llama/Meta-Llama-3.1-8B")
    recipe = Recipe(method=Method.LORA, lora=LoraConfig(16, "all-linear"))
    w = Workload(seq_len=1024, global_batch_tokens=1024, recompute=Recompute.NONE)
    hf = estimate_training(llama, H200, 1, recipe=recipe, workload=w, runtime=Runtime(Framework.HF))
    ds = estimate_training(
        llama, H200, 1, recipe=recipe, workload=w, runtime=Runtime(Framework.DEEPSPEED)
    )
    per_layer_hf = 3 * (5 * 4096 + 4096 + 14336)
    per_layer_shared = 3 * (3 * 4096 + 14336) + 2 * (2 * 4096 + 14336)
    diff = hf.peak.saved_activations - ds.peak.saved_activations
    assert diff == pytest.approx(1024 * 32 * (per_layer_hf - per_layer_shared))
