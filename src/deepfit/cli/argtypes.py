"""Argument types shared by the commands: whole numbers, fractions, positive numbers.
A bad value becomes argparse's error, which the CLI turns into one line and exit code 2."""

from __future__ import annotations

import argparse


def positive_int(text: str, hi: int = 1 << 40) -> int:
    """A whole number in [1, hi]; scientific notation ("1e6") is accepted."""
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1 or value > hi:
        raise argparse.ArgumentTypeError(f"{value} is out of range (1 .. {hi})")
    return value


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
