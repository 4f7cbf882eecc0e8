# ruff: noqa: B023, F821  (each lambda runs at once inside its loop; `del` frees GPU memory)
"""Measure the kernel rates a decode step is made of, on one GPU.

- HBM bandwidth: a large device-to-device copy (bytes read + written per second).
- Dense GEMM at decode and prefill token counts: bf16 ``torch.matmul`` and FP8
  ``torch._scaled_mm`` (per-tensor scales) over the weight shapes of an 8B and a 70B-class
  layer; achieved FLOP/s and weight bytes read per second at each token count M.
- Grouped expert GEMM as engines run it at small batch: E expert weights of one MoE layer
  read for T tokens routed top-k (a loop over the experts that received tokens).

Results go to ``$OUT/kernels.jsonl``. Timings are CUDA-event medians of 20 runs after 5
warm-ups. ``--smoke`` runs tiny shapes on the CPU to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path


def _time(fn, dev: str, reps: int = 20, warm: int = 5) -> float:  # type: ignore[no-untyped-def]
    import torch

    for _ in range(warm):
        fn()
    if dev != "cuda":
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)
    ts = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        ts.append(s.elapsed_time(e) / 1e3)
    return statistics.median(ts)


def main() -> int:
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    a = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    out = Path(a.out) / "kernels.jsonl"
    recs: list[dict[str, object]] = []

    def emit(r: dict[str, object]) -> None:
        recs.append(r)
        with out.open("a") as f:
            f.write(json.dumps(r) + "\n")
        print(json.dumps(r), flush=True)

    emit(
        {
            "kind": "meta",
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu",
        }
    )
    n = (1 << 20) if a.smoke else (1 << 31)  # 2 GiB of bf16 each way
    src = torch.empty(n // 2, dtype=torch.bfloat16, device=dev).normal_()
    dst = torch.empty_like(src)
    t = _time(lambda: dst.copy_(src), dev)
    emit(
        {
            "kind": "copy",
            "bytes_moved": 2 * src.numel() * 2,
            "s": t,
            "bytes_per_s": 2 * src.numel() * 2 / t,
        }
    )
    del src, dst

    shapes = [(4096, 14336), (14336, 4096), (8192, 28672), (28672, 8192)]  # each > 60 MB L2
    ms = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 8192]
    if a.smoke:
        shapes, ms = [(64, 128)], [1, 16]
    for k, nn in shapes:
        w = torch.empty(k, nn, dtype=torch.bfloat16, device=dev).normal_()
        w8 = w.to(torch.float8_e4m3fn).t().contiguous().t() if dev == "cuda" else None
        one = torch.ones((), device=dev)
        for m in ms:
            x = torch.empty(m, k, dtype=torch.bfloat16, device=dev).normal_()
            tb = _time(lambda: x @ w, dev)
            rec: dict[str, object] = {
                "kind": "gemm",
                "m": m,
                "k": k,
                "n": nn,
                "bf16_s": tb,
                "bf16_flops_per_s": 2 * m * k * nn / tb,
                "bf16_weight_bytes_per_s": 2 * k * nn / tb,
            }
            if w8 is not None and m % 16 == 0:
                x8 = x.to(torch.float8_e4m3fn)
                try:
                    t8 = _time(
                        lambda: torch._scaled_mm(
                            x8, w8, scale_a=one, scale_b=one, out_dtype=torch.bfloat16
                        ),
                        dev,
                    )
                    rec.update(
                        fp8_s=t8,
                        fp8_flops_per_s=2 * m * k * nn / t8,
                        fp8_weight_bytes_per_s=k * nn / t8,
                    )
                except Exception as e:
                    rec["fp8_error"] = f"{type(e).__name__}: {str(e)[:200]}"
            emit(rec)
        del w, w8

    # MoE: DeepSeek-V3 expert shape (7168 -> 2048 x2 gate/up, 2048 -> 7168 down), 32 experts
    # resident on one GPU (256 over EP8), tokens routed top-8 uniformly at random.
    e_loc, h, f = (4, 64, 32) if a.smoke else (32, 7168, 2048)
    wg = torch.empty(e_loc, h, 2 * f, dtype=torch.bfloat16, device=dev).normal_()
    wd = torch.empty(e_loc, f, h, dtype=torch.bfloat16, device=dev).normal_()
    gen = torch.Generator(device="cpu").manual_seed(0)
    for tokens in [1, 8] if a.smoke else [1, 4, 16, 64, 256, 1024]:
        # each token picks 8 of 256 experts; those that land on this GPU's 32
        picks = torch.stack(
            [torch.randperm(256 if not a.smoke else 32, generator=gen)[:8] for _ in range(tokens)]
        )
        local = picks[picks < e_loc]
        counts = torch.bincount(local, minlength=e_loc).tolist()
        xs = [torch.empty(c, h, dtype=torch.bfloat16, device=dev).normal_() for c in counts]

        def moe() -> None:
            for i, c in enumerate(counts):
                if c:
                    y = xs[i] @ wg[i]
                    torch.nn.functional.silu(y[:, :f]) * y[:, f:] @ wd[i]

        tm = _time(moe, dev)
        active = sum(1 for c in counts if c)
        wbytes = active * (h * 2 * f + f * h) * 2
        emit(
            {
                "kind": "moe_loop",
                "tokens": tokens,
                "experts_local": e_loc,
                "experts_hit": active,
                "s": tm,
                "weight_bytes": wbytes,
                "weight_bytes_per_s": wbytes / tm,
            }
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
