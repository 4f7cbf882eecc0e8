"""Measure real training steps on one GPU: peak allocated / reserved memory and step time.

Models are built from the bundled config.json files with random weights (no checkpoint is
read), trained for a few steps on random token ids in a plain PyTorch loop that does what
Hugging Face Trainer does with its defaults: the model's own loss (``labels=``), PyTorch's
default AdamW (multi-tensor, not fused), bf16 autocast over fp32 master weights ("mixed") or
a bf16 model with a bf16 AdamW ("bf16"), Hugging Face gradient checkpointing, PEFT LoRA.

Each case runs in its own process (a fresh caching allocator), so one case's fragmentation or
out-of-memory does not leak into the next. Results go to ``$OUT/train_steps.jsonl`` one line
per case as soon as it ends, so a run stopped at its time limit keeps what it measured.

    python benchmarks/device/train_steps.py                # every case, on the GPU
    python benchmarks/device/train_steps.py --smoke        # tiny configs on the CPU

Needs torch, transformers and peft (the device image has them; deepfit's core does not).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[2] / "src" / "deepfit" / "models" / "data" / "configs"

#: (case id, config file stem, method, precision, seq_len, micro_batch, grad ckpt, lora rank)
CASES: list[tuple[str, str, str, str, int, int, bool, int]] = [
    ("L1B-full-mixed-s4k-b4", "meta-llama--Llama-3.2-1B", "full", "mixed", 4096, 4, False, 0),
    ("L1B-full-mixed-s4k-b4-ckpt", "meta-llama--Llama-3.2-1B", "full", "mixed", 4096, 4, True, 0),
    ("L1B-full-bf16-s4k-b4", "meta-llama--Llama-3.2-1B", "full", "bf16", 4096, 4, False, 0),
    ("Q1.5B-full-mixed-s2k-b8", "Qwen--Qwen2.5-1.5B", "full", "mixed", 2048, 8, False, 0),
    ("Q7B-full-bf16-s4k-b1-ckpt", "Qwen--Qwen2.5-7B", "full", "bf16", 4096, 1, True, 0),
    (
        "L8B-full-bf16-s4k-b2-ckpt",
        "meta-llama--Meta-Llama-3.1-8B",
        "full",
        "bf16",
        4096,
        2,
        True,
        0,
    ),
    ("L8B-lora16-s4k-b2", "meta-llama--Meta-Llama-3.1-8B", "lora", "mixed", 4096, 2, False, 16),
    ("L8B-lora16-s4k-b4-ckpt", "meta-llama--Meta-Llama-3.1-8B", "lora", "mixed", 4096, 4, True, 16),
    ("Q3-8B-lora64-s2k-b8", "Qwen--Qwen3-8B", "lora", "mixed", 2048, 8, False, 64),
]

#: A second set near the memory edge (fit / out-of-memory verdicts) and at larger batches.
CASES_EDGE: list[tuple[str, str, str, str, int, int, bool, int]] = [
    (
        "L8B-full-mixed-s2k-b1-ckpt",
        "meta-llama--Meta-Llama-3.1-8B",
        "full",
        "mixed",
        2048,
        1,
        True,
        0,
    ),
    ("Q7B-full-bf16-s4k-b4-ckpt", "Qwen--Qwen2.5-7B", "full", "bf16", 4096, 4, True, 0),
    ("L8B-full-bf16-s4k-b2", "meta-llama--Meta-Llama-3.1-8B", "full", "bf16", 4096, 2, False, 0),
    ("Q3-8B-lora64-s2k-b4", "Qwen--Qwen3-8B", "lora", "mixed", 2048, 4, False, 64),
    ("Q3-8B-lora64-s2k-b16-ckpt", "Qwen--Qwen3-8B", "lora", "mixed", 2048, 16, True, 64),
    ("L1B-full-bf16-s8k-b8-ckpt", "meta-llama--Llama-3.2-1B", "full", "bf16", 8192, 8, True, 0),
    ("Q1.5B-full-bf16-s4k-b8", "Qwen--Qwen2.5-1.5B", "full", "bf16", 4096, 8, False, 0),
]


def _versions() -> dict[str, str]:
    import peft
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "cuda": str(torch.version.cuda),
        "gpu": gpu,
        "python": platform.python_version(),
    }


def run_case(
    case: tuple[str, str, str, str, int, int, bool, int], smoke: bool
) -> dict[str, object]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    cid, stem, method, precision, seq, mb, ckpt, rank = case
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = AutoConfig.from_pretrained(CONFIGS / f"{stem}.json")
    if smoke:  # a tiny model of the same family
        cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size = 2, 64, 128
        cfg.num_attention_heads, cfg.num_key_value_heads, cfg.vocab_size = 4, 2, 512
        if hasattr(cfg, "head_dim"):
            cfg.head_dim = 16
        seq, mb = 64, 2
    cfg._attn_implementation = "sdpa"
    cfg.use_cache = False
    torch.manual_seed(0)
    if dev == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model_dtype = torch.bfloat16 if (precision == "bf16" or method == "lora") else torch.float32
    t0 = time.perf_counter()
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(cfg, dtype=model_dtype)
    build_s = time.perf_counter() - t0
    n_params = sum(p.numel() for p in model.parameters())
    if ckpt:
        model.gradient_checkpointing_enable()
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        lcfg = LoraConfig(
            r=rank,
            lora_alpha=2 * rank,
            lora_dropout=0.05,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lcfg)
        if ckpt:
            model.enable_input_require_grads()
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=1e-5)
    model.train()
    autocast = precision == "mixed" or method == "lora"
    g = torch.Generator(device=dev).manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (mb, seq), device=dev, generator=g)
    times: list[float] = []
    steps = 2 if smoke else 6
    for _ in range(steps):
        if dev == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=autocast):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if dev == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    timed = sorted(times[2:]) if len(times) > 2 else times
    step_s = timed[len(timed) // 2]
    out: dict[str, object] = {
        "case": cid,
        "config": stem,
        "method": method,
        "precision": precision,
        "seq_len": seq,
        "micro_batch": mb,
        "grad_ckpt": ckpt,
        "lora_rank": rank,
        "params": n_params,
        "trainable_params": n_trainable,
        "build_s": build_s,
        "step_times_s": times,
        "step_s_median_after_warmup": step_s,
        "tokens_per_s": mb * seq / step_s,
        "loss": float(loss.detach()),
    }
    if dev == "cuda":
        free, total = torch.cuda.mem_get_info()
        out.update(
            peak_allocated_bytes=torch.cuda.max_memory_allocated(),
            peak_reserved_bytes=torch.cuda.max_memory_reserved(),
            peak_active_bytes=torch.cuda.memory_stats()["active_bytes.all.peak"],
            device_used_bytes_end=total - free,
            device_total_bytes=total,
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--case", help="run one case in this process (internal)")
    ap.add_argument("--edge", action="store_true", help="the second set (memory edge)")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--budget-s", type=float, default=330.0, help="stop starting cases after this")
    a = ap.parse_args()
    out = Path(a.out) / "train_steps.jsonl"
    if a.case:
        case = next(c for c in CASES + CASES_EDGE if c[0] == a.case)
        try:
            rec = run_case(case, a.smoke)
        except Exception as e:  # an out-of-memory is a result too
            rec = {"case": a.case, "error": f"{type(e).__name__}: {str(e)[:400]}"}
        with out.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        print(json.dumps({k: v for k, v in rec.items() if k != "step_times_s"}), flush=True)
        return 0
    meta = {
        "case": "_meta",
        "date": datetime.now(UTC).isoformat(),
        "host": platform.node(),
        **_versions(),
    }
    with out.open("a") as f:
        f.write(json.dumps(meta) + "\n")
    print(json.dumps(meta), flush=True)
    t0 = time.perf_counter()
    for c in CASES_EDGE if a.edge else CASES:
        if time.perf_counter() - t0 > a.budget_s:
            print(f"budget spent, skipped {c[0]}", flush=True)
            continue
        cmd = [sys.executable, __file__, "--case", c[0], "--out", a.out] + (
            ["--smoke"] if a.smoke else []
        )
        subprocess.run(cmd, check=False, timeout=240)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
