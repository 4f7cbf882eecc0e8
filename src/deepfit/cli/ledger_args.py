"""The flags of what is served beside the model (draft model, MTP, LoRA slots), shared by
``deepfit memory`` and ``deepfit export``, and the :class:`Extras` they describe."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .argtypes import positive_int

if TYPE_CHECKING:
    from ..memory.ledger import Extras
    from ..models import Model


def add_ledger_args(p: argparse.ArgumentParser, *, spec_tokens: bool = True) -> None:
    g = p.add_argument_group("served beside the model")
    g.add_argument(
        "--draft-model",
        default=None,
        metavar="MODEL",
        help="speculative decoding with this draft model (its weights and KV cache count)",
    )
    g.add_argument(
        "--mtp",
        action="store_true",
        help="speculative decoding with the checkpoint's MTP layers (DeepSeek-V3/R1/V4)",
    )
    if spec_tokens:
        g.add_argument(
            "--num-speculative-tokens",
            type=positive_int,
            default=None,
            metavar="N",
            help="tokens drafted per step (default 1 with --mtp, 3 with --draft-model)",
        )
    g.add_argument(
        "--max-loras",
        type=lambda t: positive_int(t, 1024),
        default=0,
        metavar="N",
        help="LoRA adapter slots the engine reserves on each GPU (vLLM --max-loras)",
    )
    g.add_argument(
        "--max-lora-rank",
        type=lambda t: positive_int(t, 512),
        default=0,
        metavar="R",
        help="the largest adapter rank; every slot is this size (vLLM --max-lora-rank)",
    )
    g.add_argument(
        "--vision",
        action="store_true",
        help="count a multimodal model's vision encoder, projector and their activations",
    )


def default_spec_tokens(args: argparse.Namespace) -> int:
    """The speculative tokens asked for, or the default for the drafter chosen (0: none)."""
    asked: int | None = getattr(args, "num_speculative_tokens", None)
    if asked is not None:
        return asked
    if args.mtp:
        return 1
    return 3 if args.draft_model else 0


def extras_from(args: argparse.Namespace, *, hub: bool = False) -> Extras | None:
    """The :class:`Extras` the flags ask for, or None when none is used."""
    from ..memory import resolve_format
    from ..memory.ledger import Extras
    from ..models import load_model

    if not (args.draft_model or args.mtp or args.max_loras or args.max_lora_rank or args.vision):
        return None
    draft: Model | None = load_model(args.draft_model, hub=hub) if args.draft_model else None
    return Extras(
        draft=draft,
        draft_format=resolve_format(draft, "auto") if draft is not None else None,
        spec_tokens=default_spec_tokens(args),
        mtp=args.mtp,
        max_loras=args.max_loras,
        max_lora_rank=args.max_lora_rank,
        vision=args.vision,
    )
