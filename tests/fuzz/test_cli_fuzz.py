"""CI's slice of the command-line fuzzer: 1,000 generated command lines over every
subcommand, in this process: no traceback, no "internal error", only exit codes 0 and 2
(3: a bench whose requests failed), no run over 10 s, and the process under 1 GiB.
The full run (>= 3,000 lines in separate processes): python -m tests.fuzz.cli_fuzz."""

from __future__ import annotations

from .cli_fuzz import fuzz

BUDGET_S = 90.0  # a hard cap on a busy machine: the slice stops early rather than run long


def test_cli_fuzz_slice() -> None:
    report = fuzz(1000, seed=0, limit_s=10.0, budget_s=BUDGET_S)
    assert report["cases"] >= 200, report["cases"]  # the cap left a meaningful slice
    assert report["findings"] == [], report["findings"][:5]
    assert report["peak_rss_bytes"] < 1 << 30
