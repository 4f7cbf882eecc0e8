"""Turn the train-steps records into deepfit's long-format validation rows.

Reads ``results/*-train-steps.jsonl`` (written by ``train_steps.py``) and writes two CSV files
in the columns of ``tests/validation/data/training-memory.csv`` and
``training-throughput.csv``:

* ``training-measured-h200-memory.csv``: peak allocated and peak reserved bytes of every case
  that trained (``active`` equalled ``allocated`` in every record, so it is not repeated), and
  a ``fits`` row (1 trained, 0 out of memory) for every case;
* ``training-measured-h200-speed.csv``: tokens/s of every case that trained (the median step
  after two warm-up steps).

The rows are measured by deepfit itself, trust A, in the source group
``deepfit-h200-2026-12``: :func:`deepfit.train.groundtruth.held_in` keeps every group whose
source begins with ``deepfit-`` held out, so no fitted term ever sees them.

    python benchmarks/device/to_rows.py            # rewrite both files from the records
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "tests" / "validation" / "data"
RECORDS = HERE / "results" / "2026-12-04-h200-train-steps.jsonl"
GROUP = "deepfit-h200-2026-12"
GiB = 2**30


def _cases() -> dict[str, tuple[Any, ...]]:
    """The case table of train_steps.py (what each case id ran)."""
    spec = importlib.util.spec_from_file_location("train_steps", HERE / "train_steps.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {c[0]: c for c in mod.CASES + mod.CASES_EDGE}


def _records(path: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    meta: dict[str, str] = {}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines()[:200]:
        rec = json.loads(line)
        if rec["case"] == "_meta":
            meta = rec
        else:
            out.append(rec)
    return meta, out


def _settings(case: tuple[Any, ...], meta: dict[str, str]) -> dict[str, str]:
    cid, stem, method, precision, seq, mb, ckpt, rank = case
    lora = method == "lora"
    if precision == "bf16" and not lora:
        prec = "bf16 (params, grads, optimizer states in bf16)"
    else:
        prec = "mixed: fp32 params, grads and AdamW states; bf16 autocast (HF Trainer bf16=True)"
    versions = (
        f"torch {meta['torch']}, transformers {meta['transformers']}, peft {meta['peft']}, "
        f"CUDA {meta['cuda']}, Python {meta['python']}"
    )
    return {
        "config_id": cid,
        "source_group": GROUP,
        "model": stem.replace("--", "/"),
        "method": "LoRA" if lora else "full fine-tune",
        "lora_rank": str(rank) if lora else "",
        "lora_alpha": str(2 * rank) if lora else "",
        "lora_targets": "all-linear (PEFT), dropout 0.05" if lora else "",
        "base_weights": "bf16" if lora or precision == "bf16" else "fp32",
        "optimizer": "torch AdamW (foreach, not fused)",
        "precision": prec,
        "sharding": "none (single device)",
        "gpu": "H200 SXM (141 GB; 139.8 GiB usable)",
        "gpu_mem_gb_nominal": "141",
        "gpu_count": "1",
        "seq_len": str(seq),
        "micro_batch": str(mb),
        "grad_accum": "1",
        "packing": "random token ids, every sequence full length",
        "grad_ckpt": "yes (HF gradient_checkpointing_enable)" if ckpt else "no",
        "flash_attn": "SDPA",
        "compile": "no",
        "other_opts": "model's own loss (labels=)",
        "framework": "transformers + peft (plain PyTorch loop, HF Trainer defaults)",
        "framework_version": versions,
        "source": (
            f"measured by deepfit, benchmarks/device/train_steps.py, {meta['date'][:10]}, "
            f"NVIDIA H200, {versions}"
        ),
        "source_kind": "measured by deepfit",
        "trust": "A",
    }


def _columns(name: str) -> list[str]:
    """The header of a published-rows file, so the measured rows keep its columns."""
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def memory_rows(meta: dict[str, str], recs: list[dict[str, Any]]) -> list[dict[str, str]]:
    cases = _cases()
    rows: list[dict[str, str]] = []
    for rec in recs:
        base = _settings(cases[rec["case"]], meta)
        trained = "error" not in rec
        if trained:
            base["params_b"] = f"{rec['params'] / 1e9:.3f}"
            stats = (
                ("peak_gpu_mem_allocated", "peak_allocated_bytes", "max_memory_allocated()"),
                ("peak_gpu_mem_reserved", "peak_reserved_bytes", "max_memory_reserved()"),
            )
            for metric, key, how in stats:
                rows.append(
                    base
                    | {
                        "metric": metric,
                        "value": f"{rec[key] / GiB:.4f}",
                        "unit": "GiB",
                        "value_qualifier": "measured",
                        "scope": "per_gpu",
                        "measured_how": f"torch.cuda.{how} over 6 steps / 2^30",
                        "note": f"{rec[key]} bytes; trainable params {rec['trainable_params']}",
                    }
                )
        rows.append(
            base
            | {
                "metric": "fits",
                "value": "1" if trained else "0",
                "unit": "bool (1 = trained, 0 = OOM)",
                "value_qualifier": "measured",
                "scope": "per_gpu",
                "measured_how": "6 steps ran / torch.cuda.OutOfMemoryError",
                "note": "" if trained else rec["error"][:160],
            }
        )
    for i, row in enumerate(rows):
        row["row_id"] = f"DM{i + 1:04d}"
    return rows


def speed_rows(meta: dict[str, str], recs: list[dict[str, Any]]) -> list[dict[str, str]]:
    cases = _cases()
    rows = []
    for rec in recs:
        if "error" in rec:
            continue
        s = _settings(cases[rec["case"]], meta)
        times = ", ".join(f"{t:.4f}" for t in rec["step_times_s"])
        rows.append(
            {
                "row_id": f"DT{len(rows) + 1:04d}",
                "config_id": s["config_id"],
                "source_group": GROUP,
                "model": s["model"],
                "params_b": f"{rec['params'] / 1e9:.3f}",
                "phase": "fine-tuning",
                "method": s["method"],
                "gpu": s["gpu"],
                "gpu_count": "1",
                "sharding": s["sharding"],
                "seq_len": s["seq_len"],
                "micro_batch": s["micro_batch"],
                "global_batch_tokens": str(rec["seq_len"] * rec["micro_batch"]),
                "precision": s["precision"] + ("; PURE" if "(params" in s["precision"] else ""),
                "act_ckpt": s["grad_ckpt"],
                "framework": s["framework"],
                "framework_version": s["framework_version"],
                "metric": "tokens_per_s_per_gpu",
                "value": f"{rec['tokens_per_s']:.1f}",
                "unit": "tokens/s",
                "value_qualifier": "measured (median of steps 3-6)",
                "source": s["source"],
                "source_kind": s["source_kind"],
                "trust": "A",
                "note": f"step times s: {times}",
                "lora_rank": s["lora_rank"],
                "lora_targets": "all-linear" if s["lora_rank"] else "",
            }
        )
    return rows


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({c: row.get(c, "") for c in columns})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=Path, default=RECORDS)
    ap.add_argument("--out", type=Path, default=DATA)
    a = ap.parse_args()
    meta, recs = _records(a.records)
    mem, speed = memory_rows(meta, recs), speed_rows(meta, recs)
    speed_columns = [*_columns("training-throughput.csv"), "lora_rank", "lora_targets"]
    _write(a.out / "training-measured-h200-memory.csv", _columns("training-memory.csv"), mem)
    _write(a.out / "training-measured-h200-speed.csv", speed_columns, speed)
    print(f"{len(mem)} memory rows, {len(speed)} speed rows written to {a.out}")


if __name__ == "__main__":
    main()
