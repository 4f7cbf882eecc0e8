"""Token counts as people write them (`32k`, `128K`, `1M`), everywhere one is taken."""

from __future__ import annotations

import json

import pytest

from deepfit.units import parse_token_count

from ..cli.test_cli import run


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("4096", 4096),
        ("32k", 32_000),  # lower case: decimal, as vLLM's --max-model-len reads it
        ("32K", 32_768),  # upper case: binary
        ("128K", 131_072),
        ("1M", 1_048_576),
        ("1m", 1_000_000),
        ("1.5k", 1500),
        ("15.6e12", 15_600_000_000_000),
        ("2T", 2_000_000_000_000),
        ("32,768", 32_768),
    ],
)
def test_suffixes(text: str, tokens: int) -> None:
    assert parse_token_count(text) == tokens


@pytest.mark.parametrize("text", ["", "k", "1.5", "1.0001k", "32x", "nan", "inf", "1e400"])
def test_not_a_count(text: str) -> None:
    with pytest.raises((ValueError, OverflowError)):
        parse_token_count(text)


@pytest.mark.parametrize(
    "args",
    [
        ("memory", "llama-3.1-8b", "--gpu", "H100", "--context", "32K", "--json"),
        ("perf", "llama-3.1-8b", "--gpu", "H100", "--input-len", "32K", "--output-len", "1k"),
        ("plan", "llama-3.1-8b", "--gpu", "H100", "--input-len", "32K", "--output-len", "1k"),
        ("train", "llama-3.1-8b", "--gpu", "H100", "--gpus", "8", "--seq-len", "32K"),
        ("export", "llama-3.1-8b", "--gpu", "H100", "--context", "32K"),
    ],
)
def test_every_command_takes_suffixes(args: tuple[str, ...]) -> None:
    out = run(*args)
    assert out.returncode == 0, out.stderr
    if args[0] == "memory":
        assert json.loads(out.stdout)["context_tokens"] == 32_768


def test_zero_gpus_says_at_least_one() -> None:
    out = run("memory", "llama-3.1-8b", "--gpu", "H100", "--gpus", "0")
    assert out.returncode == 2
    assert "must be at least 1" in out.stderr and "1099511627776" not in out.stderr
