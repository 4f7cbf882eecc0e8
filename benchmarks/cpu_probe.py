"""Measure this machine's memory bandwidth and matmul throughput, print it, and cache it.

Run: python benchmarks/cpu_probe.py [--seconds 2] [--torch] [--no-save]
The cache (see deepfit.hardware.cpu_measure.cache_path) is what `--gpu cpu` then uses.
"""

from __future__ import annotations

import argparse
import json

from deepfit.hardware import probe_cpu
from deepfit.hardware.cpu_measure import cache_key, measure_cpu, save_measurement
from deepfit.units import GB, MiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget (~3x at most)")
    parser.add_argument("--torch", action="store_true", help="also bf16/fp16 with PyTorch")
    parser.add_argument("--no-save", action="store_true", help="do not write the cache")
    parser.add_argument("--json", action="store_true", help="print the raw measurement")
    args = parser.parse_args()
    m = measure_cpu(args.seconds, use_torch=args.torch)
    if args.json:
        print(json.dumps(m.to_dict(), indent=2))
    else:
        print(f"machine        {cache_key()}  (measured {m.measured_at})")
        print(f"numpy          {m.numpy_version}, BLAS {m.blas}, {m.threads} threads")
        print(f"read bandwidth {m.stream_bandwidth_bytes_per_s / GB:8.1f} GB/s", end="")
        print(f"  ({m.array_bytes / MiB:.0f} MiB array)")
        print(f"copy bandwidth {m.copy_bandwidth_bytes_per_s / GB:8.1f} GB/s  (read + write)")
        for fmt, rate in sorted(m.matmul_flops_per_s.items()):
            size = f"  (numpy, n = {m.matmul_size})" if fmt == "fp32" else "  (PyTorch)"
            print(f"{fmt} matmul    {rate / 1e9:8.1f} GFLOP/s{size}")
        for note in m.notes:
            print(f"note: {note}")
    if not args.no_save:
        path = save_measurement(m)
        print(f"cache: {path}" if path else "cache: could not be written")
        gpu = probe_cpu()
        print(f"load_gpu('cpu').source: {gpu.source}")


if __name__ == "__main__":
    main()
