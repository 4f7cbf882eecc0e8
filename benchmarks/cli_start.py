"""How long a cold `deepfit` command takes: a fresh Python process each time, as a user
types it. Reports per command the median and best wall time of N runs, the median CPU time
(user + system: what the command costs the machine, and close to its wall time on an idle
one; on a busy machine wall time waits for other work), the interpreter's own start
(`python -c pass`) for reference, the 1-minute load average (the target, < 0.25 s, is for an
idle machine) and how many deepfit modules each command imported.

Run: python benchmarks/cli_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "deepfit memory (table)": [
        "-m", "deepfit", "memory", "deepseek-v3", "--gpu", "H200", "--gpus", "8",
        "--weights", "fp8", "--context", "32768",
    ],
    "deepfit memory --json": [
        "-m", "deepfit", "memory", "deepseek-v3", "--gpu", "H200", "--gpus", "8",
        "--weights", "fp8", "--context", "32768", "--json",
    ],
    "deepfit perf (table)": [
        "-m", "deepfit", "perf", "llama-3.1-8b", "--gpu", "H100", "--input-len", "512",
        "--output-len", "128",
    ],
    "deepfit info (table)": ["-m", "deepfit", "info", "deepseek-236b"],
    "deepfit info --json": ["-m", "deepfit", "info", "deepseek-236b", "--json"],
}  # fmt: skip


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "100"}


def _once(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=_env(), capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def _modules(args: list[str]) -> int:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", *args], env=_env(), capture_output=True, text=True
    )
    return sum(1 for line in out.stderr.splitlines() if " deepfit" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, 1-minute load average {load:.2f} before the runs")
    print(f"{'command':<24} {'wall median':>11} {'wall best':>9} {'CPU median':>10} {'modules':>7}")
    for name, args in COMMANDS.items():
        _once(args)  # the first run fills the OS file cache (.pyc files, data)
        walls, cpus = zip(*(_once(args) for _ in range(runs)), strict=True)
        print(
            f"{name:<24} {statistics.median(walls):>11.3f} {min(walls):>9.3f} "
            f"{statistics.median(cpus):>10.3f} {_modules(args):>7}"
        )


if __name__ == "__main__":
    main()
