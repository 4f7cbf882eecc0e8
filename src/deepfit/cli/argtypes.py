"""Argument types shared by the commands: whole numbers, fractions, positive numbers.
A bad value becomes argparse's error, which the CLI turns into one line and exit code 2."""

from __future__ import annotations

import argparse

from ..units import parse_token_count


def positive_int(text: str, hi: int = 1 << 40) -> int:
    """A whole number in [1, hi]; scientific notation ("1e6") is accepted."""
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    return _in_range(value, hi)


def _in_range(value: int, hi: int) -> int:
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    if value > hi:
        raise argparse.ArgumentTypeError(f"{value:,} is more than the largest allowed, {hi:,}")
    return value


#: The longest sequence or workload length deepfit takes (2^30 tokens).
MAX_TOKENS = 1 << 30


def tokens(text: str, hi: int = MAX_TOKENS) -> int:
    """A token count: 4096, 32k (32,000), 32K (32,768), 128K, 1M, 1.5k, 1e6."""
    try:
        value = parse_token_count(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a token count (e.g. 4096, 32k = 32,000, 32K = 32,768, 1M)"
        ) from None
    return _in_range(value, hi)


def token_total(text: str) -> int:
    """A training-token total: 15.6e12, 2T, 500B (up to 10^18)."""
    return tokens(text, 10**18)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def positive_float(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1e12:
        raise argparse.ArgumentTypeError(f"{value} must be a positive number")
    return value


def fraction(text: str) -> float:
    """An engine memory fraction in [0.05, 1]."""
    value = _number(text)
    if not 0.05 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in [0.05, 1]")
    return value


def unit_interval(text: str) -> float:
    """A share in [0, 1)."""
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in [0, 1)")
    return value


def concurrency(text: str) -> int | str:
    """A number of sequences, or "max"."""
    return "max" if text.strip().lower() == "max" else positive_int(text)
