"""What a bench sends: prompt and output lengths (fixed, from a distribution, or from a
dataset file) and the prompts themselves.

Without the server's tokenizer a prompt of N tokens cannot be written exactly; synthetic
prompts are N common English words, which most tokenizers split into about one token each.
The true prompt length is read back from the server's ``usage`` field.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..units import parse_token_count

_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "as",
    "with",
    "by",
    "at",
    "from",
    "his",
    "her",
    "that",
    "this",
    "are",
    "not",
    "but",
    "have",
    "had",
    "they",
    "which",
    "one",
    "you",
    "were",
    "all",
    "we",
    "can",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "out",
    "up",
    "into",
    "time",
    "two",
    "may",
]


@dataclass(frozen=True)
class Lengths:
    """A token-count distribution: ``fixed:N`` (or just ``N``), ``uniform:LO:HI`` or
    ``normal:MEAN:STD`` (clipped at 1)."""

    kind: str
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Lengths:
        parts = text.split(":")
        try:
            if len(parts) == 1 or (parts[0] == "fixed" and len(parts) == 2):
                n = parse_token_count(parts[-1])
                if n < 1:
                    raise ValueError
                return cls("fixed", n)
            if parts[0] in ("uniform", "normal") and len(parts) == 3:
                a, b = float(parts[1]), float(parts[2])
                if a < 1 or b < 0 or (parts[0] == "uniform" and b < a):
                    raise ValueError
                return cls(parts[0], a, b)
        except ValueError:
            pass
        raise BadInputError(
            f"bad length {text!r}", "use N, fixed:N, uniform:LO:HI or normal:MEAN:STD"
        )

    def sample(self, rng: random.Random) -> int:
        if self.kind == "uniform":
            return rng.randint(int(self.a), int(self.b))
        if self.kind == "normal":
            return max(1, round(rng.gauss(self.a, self.b)))
        return int(self.a)

    def __str__(self) -> str:
        return str(int(self.a)) if self.kind == "fixed" else f"{self.kind}:{self.a:g}:{self.b:g}"


@dataclass(frozen=True)
class Prompt:
    """One request's input: text (completions) or chat messages, and the lengths asked for."""

    text: str
    output_len: int
    input_len: int | None = None  # None when taken from a dataset (length unknown until usage)
    messages: tuple[dict[str, str], ...] | None = None


def synthetic_prompts(
    n: int, input_len: Lengths, output_len: Lengths, seed: int = 0
) -> list[Prompt]:
    """``n`` prompts of about ``input_len`` tokens each; different words per prompt so a
    prefix cache does not make later requests cheaper."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = input_len.sample(rng)
        words = [rng.choice(_WORDS) for _ in range(k)]
        out.append(Prompt(" ".join(words), output_len.sample(rng), k))
    return out


def dataset_prompts(path: Path, n: int, output_len: Lengths, seed: int = 0) -> list[Prompt]:
    """Prompts from a JSONL (or JSON list) file of objects with ``prompt`` (a string) or
    ``messages`` (chat), and optionally ``output_len``/``max_tokens``. Cycles when ``n``
    exceeds the file's rows."""
    try:
        text = path.read_text(encoding="utf-8")
        rows: list[Any] = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInputError(
            f"cannot read dataset {path}: {exc}", "JSONL of {'prompt': ...}"
        ) from exc
    rng = random.Random(seed)
    rowed = [_row(r, output_len, rng) for r in rows if isinstance(r, dict)]
    prompts = [p for p in rowed if p is not None]
    if not prompts:
        raise BadInputError(f"{path} has no usable rows", "each row needs 'prompt' or 'messages'")
    return [prompts[i % len(prompts)] for i in range(n)]


def _row(row: dict[str, Any], output_len: Lengths, rng: random.Random) -> Prompt | None:
    out = row.get("output_len", row.get("max_tokens"))
    n_out = int(out) if isinstance(out, int) and out > 0 else output_len.sample(rng)
    if isinstance(row.get("prompt"), str):
        return Prompt(row["prompt"], n_out)
    msgs = row.get("messages")
    if isinstance(msgs, list) and all(isinstance(m, dict) for m in msgs):
        chat = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in msgs)
        return Prompt(" ".join(m["content"] for m in chat), n_out, messages=chat)
    return None
