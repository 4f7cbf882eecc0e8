"""Shared helpers of the measure tests: start the fake server, run the measure CLI."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from deepfit.cli.measure_cmd import add_measure_parsers
from deepfit.errors import DeepfitError

SERVER = Path(__file__).with_name("measure_fake_server.py")


@contextmanager
def fake_server(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The fake server on a free loopback port: (base URL, process); stopped on exit."""
    proc = subprocess.Popen([sys.executable, str(SERVER), *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def cli(argv: Sequence[str]) -> int:
    """The measure commands as `deepfit` would run them (same error handling as main)."""
    parser = argparse.ArgumentParser(prog="deepfit")
    sub = parser.add_subparsers(dest="command")
    add_measure_parsers(sub)
    args = parser.parse_args(list(argv))
    try:
        code: int = args.func(args)
        return code
    except DeepfitError as err:
        print(f"deepfit: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
