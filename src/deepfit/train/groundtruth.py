"""Published training measurements as typed cases deepfit can be run on.

Reads the long-format ``training-memory.csv`` (here; ``training-throughput.csv`` in
:mod:`.groundtruth_time`), both copied with their sources into ``tests/validation/data``
(TRAINING-NOTES.md there says how to read them), into one :class:`Case` per row: the
run's settings as deepfit's inputs, the published value in SI units, the memory statistic
it is (allocated / active / reserved / NVML), and its **group** (source table x model x
GPU x framework), the unit of the held-in / held-out split (:func:`held_in`). A row
deepfit cannot run honestly (an encoder-decoder model, a TPU, an unstated sequence
length, a rule of thumb) keeps its reason in ``skip``.

The readers take a path and are bounded (:data:`MAX_ROWS`); nothing here reads a user's
profile or the network.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MAX_ROWS = 5000
MAX_FILE_BYTES = 8 * 1024 * 1024

#: Published model names -> a bundled model or a reference config (train/data).
MODELS: dict[str, str] = {
    "meta-llama/Llama-3.2-3B-Instruct": "meta-llama/Llama-3.2-3B",
    "meta-llama/Llama-2-7b-hf": "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-2-13b-hf": "llama2-13b",
    "meta-llama/Llama-2-70b-hf": "meta-llama/Llama-2-70b-hf",
    "meta-llama/Meta-Llama-3-8B": "meta-llama/Meta-Llama-3-8B",
    "meta-llama/Meta-Llama-3-70B": "meta-llama/Llama-3.1-70B",
    "microsoft/phi-1_5": "phi-1_5",
    "stabilityai/stablelm-base-alpha-3b": "stablelm-base-alpha-3b",
    "tiiuae/falcon-40b": "falcon-40b",
    "bigscience/bloomz-7b1": "bloomz-7b1",
    "bigscience/bloom": "bloom-176b",
    "decapoda-research/llama-7b-hf (LLaMA-1 7B)": "llama-7b",
    "decapoda-research/llama-13b-hf (LLaMA-1 13B)": "llama-13b",
    "LLaMA-1 7B": "llama-7b",
    "LLaMA-1 13B": "llama-13b",
    "LLaMA-1 33B": "llama-33b",
    "LLaMA-1 65B": "llama-65b",
    "huggyllama/llama-65b (LLaMA-1 65B)": "llama-65b",
    "generic 7.5B transformer": "gpt-7.5b",
    "EleutherAI/pythia-70m": "pythia-70m",
    "EleutherAI/pythia-160m": "pythia-160m",
    "EleutherAI/pythia-410m": "pythia-410m",
    "EleutherAI/pythia-1b": "pythia-1b",
    "EleutherAI/pythia-1.4b": "pythia-1.4b",
    "EleutherAI/pythia-2.8b": "pythia-2.8b",
    "EleutherAI/pythia-6.9b": "pythia-6.9b",
    "EleutherAI/pythia-12b": "pythia-12b",
    "bigcode/starcoderbase (15.5B, MQA)": "starcoderbase",
    "mosaicml/mpt-7b": "mpt-7b",
    "HuggingFaceTB/SmolLM3-3B-Base": "smollm3-3b",
    "BloombergGPT 50.6B (70 layers, h7680, vocab 131072)": "bloomberggpt",
    "Megatron-Turing NLG 530B": "gpt-529.6b",
    "GPT-3 175B": "gpt-175b",
    # deepfit's own H200 measurements name the bundled configs they were built from
    "meta-llama/Llama-3.2-1B": "meta-llama/Llama-3.2-1B",
    "meta-llama/Meta-Llama-3.1-8B": "meta-llama/Meta-Llama-3.1-8B",
    "Qwen/Qwen2.5-1.5B": "Qwen/Qwen2.5-1.5B",
    "Qwen/Qwen2.5-7B": "Qwen/Qwen2.5-7B",
    "Qwen/Qwen3-8B": "Qwen/Qwen3-8B",
}

#: GPT shapes named by size in the Megatron papers' rows ("GPT 22B (h=6144, ...)").
_GPT_SIZES = {
    "1.7": "gpt-1.7b", "3.6": "gpt-3.6b", "7.5": "gpt-7.5b-megatron", "18.4": "gpt-18.4b",
    "39.1": "gpt-39.1b", "76.1": "gpt-76.1b", "145.6": "gpt-145.6b", "310.1": "gpt-310.1b",
    "529.6": "gpt-529.6b", "1008.0": "gpt-1008b", "22": "gpt-22b", "175": "gpt-175b",
    "174.6": "gpt-175b", "530": "gpt-529.6b", "1000": "gpt-1008b",
}  # fmt: skip

#: Memory statistics as published -> the definition deepfit compares with.
DEFINITIONS = {
    "peak_gpu_mem_allocated": "allocated",
    "peak_gpu_mem_active": "allocated",  # active_bytes peak: allocated to within blocks
    "peak_gpu_mem_reserved": "reserved",
    "nvml_used": "nvml",
    "peak_gpu_mem_unspecified": "reserved",
}

_UNITS = {
    "GiB": 2**30,
    "GB (1e9 bytes)": 1e9,
    "GB": 1e9,
    "GB (as printed; MiB-based, see note)": 2**20 * 1000,  # PEFT printed MiB / 1000
}


@dataclass(frozen=True)
class Case:
    """One published number and the run behind it, as deepfit's inputs (SI units)."""

    row_id: str
    config_id: str
    source_group: str
    trust: str
    metric: str  # memory | fits | states | tokens_per_s_per_gpu | mfu | tflops | ...
    value: float  # bytes, 0/1, tokens/s, fraction, FLOP/s, s, GPU-hours
    definition: str = ""  # memory: allocated | reserved | nvml
    model: str = ""
    gpu: str = ""
    gpus: int = 1
    framework: str = "fsdp"
    method: str = "full"
    optimizer: str = "adamw"
    lora_rank: int = 8
    lora_targets: str = "qv"
    seq_len: int = 2048
    micro_batch: int = 1
    global_batch_tokens: int = 0  # 0: one micro-batch per GPU per step
    recompute: str = "none"
    zero: int = 0
    offload: str = "none"
    tp: int = 1
    pp: int = 1
    chunked_loss: bool = False
    fused_kernels: bool = False  # torch.compile or fused norm kernels
    optimizer_in_backward: bool = False
    activation_offload: bool = False
    double_quant: bool = False
    flash: bool = True
    virtual_stages: int = 1
    zero_bubble: bool = False
    ep: int = 1
    precision: str = "bf16"
    tokens_trained: float = 0.0
    skip: str = ""

    @property
    def group(self) -> str:
        """Source table x model x GPU x framework: the unit of the held-out split."""
        return f"{self.source_group} | {self.model} | {self.gpu} | {self.framework}"

    @property
    def trusted(self) -> bool:
        return self.trust in ("A", "A-")


#: Source groups deepfit measured itself (benchmarks/device/): always held out, never fitted.
MEASURED_PREFIX = "deepfit-"


def held_in(group: str) -> bool:
    """A group is held in (may tune deepfit's fitted terms) when the SHA-256 of its name is
    even, held out otherwise; every row of a group falls on the same side. deepfit's own
    measurements (:data:`MEASURED_PREFIX`) are always held out."""
    if group.startswith(MEASURED_PREFIX):
        return False
    return int(hashlib.sha256(group.encode()).hexdigest(), 16) % 2 == 0


def _read(path: Path) -> list[dict[str, str]]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = []
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= MAX_ROWS:
                raise ValueError(f"{path} has more than {MAX_ROWS} rows")
            rows.append(row)
    return rows


def _int(text: str, default: int = 0) -> int:
    m = re.search(r"\d[\d,]*", text or "")
    return int(m.group(0).replace(",", "")) if m else default


def _tokens(text: str) -> float:
    m = re.match(r"\s*([\d.,]+)\s*([TBM]?)", text or "")
    if not m:
        return 0.0
    scale = {"T": 1e12, "B": 1e9, "M": 1e6, "": 1.0}[m.group(2)]
    return float(m.group(1).replace(",", "")) * scale


def _gpu(text: str) -> str:
    t = text.lower()
    table = [
        ("t4", "T4"), ("v100", "V100-32GB"), ("h100", "H100"), ("h200", "H200"), ("48gb", "A6000"),
        ("24gb", "RTX4090"), ("40gb", "A100-40GB"), ("a100", "A100-80GB"),
    ]  # fmt: skip
    if "tpu" in t:
        return ""
    if "46gb" in t:
        return ""
    if t.startswith("not stated"):
        return "A100-80GB"  # torchtune's tutorials: the peak does not depend on the card
    return next((name for key, name in table if key in t), "")


def _model(text: str) -> str:
    if text in MODELS:
        return MODELS[text]
    m = re.match(r"(?:GPT|GPT-3) ([\d.]+)B", text)
    if m and m.group(1) in _GPT_SIZES:
        return _GPT_SIZES[m.group(1)]
    m = re.match(r"MPT-(\d+)b architecture", text)
    if m:
        return f"mpt-{m.group(1)}b"
    return ""


def _framework(text: str, sharding: str) -> str:
    t = (text + " " + sharding).lower()
    if "torchtune" in t:
        return "torchtune"
    if "megatron" in t and "deepspeed" not in t:
        return "megatron"
    if "deepspeed" in t or "neox" in t or "zero" in t:
        return "deepspeed"
    if "hf " in t or "transformers" in t or "peft" in t:
        return "hf"
    return "fsdp"  # torchtitan, LitGPT (Fabric FSDP / plain PyTorch), LLM Foundry


def _recompute(text: str) -> str:
    t = (text or "").lower()
    if t.startswith("selective"):
        return "selective"
    if t.startswith("yes") or t.startswith("full"):
        return "full"
    return "none"


def _lora_targets(text: str) -> str:
    t = (text or "").lower().replace(" ", "")
    if (t.startswith("q_proj,v_proj") and "mlp" not in t) or t.startswith("query,value"):
        return "qv"
    if t.startswith("q,v") or t.startswith("wq,wv") or "notstated" in t or not t:
        return "qv"  # PEFT's default for Llama/T5: q and v
    if t.startswith("query_key_value"):
        return "attention"
    return "all-linear"


def _optimizer(opt: str, precision: str) -> str:
    o, p = opt.lower(), precision.lower()
    pure_bf16 = "bf16 (params" in p or "bf16-true" in p or "bf16 (params/grads" in p
    if p.startswith("fp32"):
        return "adamw-fp32"
    if "8-bit" in o:
        return "adamw-8bit-bf16" if pure_bf16 else "adamw-8bit"
    return "adamw-bf16" if pure_bf16 else "adamw"


def _sharding(text: str, offload: str) -> tuple[int, str]:
    t = text.lower()
    said = (offload + " " + t).lower().replace("no cpu offload", "")
    off = "cpu" if "cpu" in said else "none"
    for key, zero in (
        ("zero-3", 3), ("full shard", 3), ("full_shard", 3), ("fsdp2", 3), ("zero-2", 2),
        ("shard_grad_op", 2), ("zero-1", 1), ("zero stage 1", 1),
    ):  # fmt: skip
        if key in t:
            return zero, off
    return 0, off


def _method(text: str, base: str) -> tuple[str, str]:
    """(method, skip reason)."""
    t = text.lower()
    if "model init only" in t:
        return "", "a reading after model init, not a training peak"
    if t.startswith("adapter"):
        return "", "LLaMA-Adapter is not a method deepfit models"
    if "int8" in base.lower():
        return "", "an LLM.int8 frozen base is not a format deepfit trains on"
    if "qlora" in t or "nf4" in base.lower() or "fp4" in base.lower():
        return "qlora", ""
    if "lora" in t:
        return "lora", ""
    return "full", ""


def _memory_case(r: dict[str, str]) -> Case:
    metric = r["metric"]
    skip = ""
    if metric in DEFINITIONS:
        kind, definition = "memory", DEFINITIONS[metric]
        value = float(r["value"]) * _UNITS.get(r["unit"], 0.0)
        if not value:
            skip = f"unit {r['unit']!r} not understood"
    elif metric == "fits":
        kind, definition, value = "fits", "", float(r["value"])
    elif metric == "model_states_per_gpu_analytic":
        kind, definition, value = "states", "", float(r["value"]) * 1e9
    else:
        kind, definition, value = metric, "", 0.0
        skip = "a bound, component, ratio or host figure, not a per-GPU peak"
    method, why = _method(r["method"], r["base_weights"])
    zero, offload = _sharding(r["sharding"], r["offload"])
    gpus = _int(r["gpu_count"], 1) or 1
    pp = gpus if "device_map" in r["sharding"] else 1  # accelerate's naive model parallel
    seq = _int(r["seq_len"])
    model, gpu = _model(r["model"]), _gpu(r["gpu"])
    if kind == "states":
        gpus, gpu, seq = _int(r["dp"], 1), "V100-32GB", 1024
    skip = skip or why or _why_not(r, model, gpu, seq)
    return Case(
        row_id=r["row_id"],
        config_id=r["config_id"],
        source_group=r["source_group"],
        trust=r["trust"],
        metric=kind,
        value=value,
        definition=definition,
        model=model,
        gpu=gpu,
        gpus=gpus,
        framework=_framework(r["framework"], r["sharding"]),
        method=method or "full",
        optimizer=_optimizer(r["optimizer"], r["precision"]),
        lora_rank=_int(r["lora_rank"], 8) or 8,
        lora_targets=_lora_targets(r["lora_targets"]),
        seq_len=seq or 1,
        micro_batch=_int(r["micro_batch"], 1) or 1,
        recompute=_recompute(r["grad_ckpt"]),
        zero=zero,
        offload=offload,
        pp=pp,
        # LitGPT's fine-tuning scripts use its chunked cross-entropy
        chunked_loss="chunked" in r["other_opts"].lower() or "lit-gpt" in r["framework"],
        fused_kernels=r["compile"].lower().startswith("yes"),
        optimizer_in_backward="optimizer_in_bwd=true" in r["optimizer"].lower(),
        activation_offload="offload" in r["grad_ckpt"].lower(),
        double_quant="double" in r["base_weights"].lower() or "torchao" in r["base_weights"],
        flash=_flash(r, gpu),
        skip=skip,
    )


def _flash(r: dict[str, str], gpu: str) -> bool:
    """Flash (or memory-efficient SDPA) attention unless the row says otherwise, the GPU
    predates it (Turing, Volta) or the source predates it (PEFT's 2022 README)."""
    said = r["flash_attn"].lower()
    if said.startswith("no"):
        return False
    if said:
        return True
    return gpu not in ("T4", "V100-32GB") and r["source_group"] != "peft-readme"


def _why_not(r: dict[str, str], model: str, gpu: str, seq: int) -> str:
    if r["trust"] not in ("A", "A-", "B"):
        return "a rule of thumb (trust C)"
    if not model:
        return f"no deepfit model for {r['model']!r} (encoder-decoder or unpublished shape)"
    if not gpu:
        return f"no catalogued GPU for {r['gpu']!r}"
    if not seq:
        return "sequence length not stated"
    if "unpacked" in r.get("packing", "") and "4096" in r["seq_len"]:
        return "unpacked short samples: tokens per batch unknown"
    return ""


def read_memory_cases(path: Path) -> list[Case]:
    """Every row of ``training-memory.csv`` as a :class:`Case` (skipped ones say why)."""
    return [_memory_case(r) for r in _read(path)]
