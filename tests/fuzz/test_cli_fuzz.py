"""CI's slice of the command-line fuzzer: 1,000 generated command lines over every
subcommand, in this process: no traceback, no "internal error", only exit codes 0 and 2
(3: a bench whose requests failed), and the process under 1 GiB.

No wall-clock bound here: CI machines are busy and a timed assertion would fail on load,
not on a defect. The full run (>= 3,000 lines in separate processes, each under 10 s and
1 GB) is ``python -m tests.fuzz.cli_fuzz``; it reports the slowest line."""

from __future__ import annotations

from .cli_fuzz import fuzz


def test_cli_fuzz_slice() -> None:
    report = fuzz(1000, seed=0, limit_s=None)
    assert report["cases"] == 1000
    assert report["findings"] == [], report["findings"][:5]
    assert report["peak_rss_bytes"] < 1 << 30
