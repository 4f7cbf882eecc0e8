"""What a plan's weight format costs in quality: a cited figure, or a plain statement that
none is cited, so a plan that quantizes never does so silently."""

from __future__ import annotations

from ..memory.formats import checkpoint_native_format
from ..models.loader import Model

#: Formats that keep the model's weights as trained (no quantization trade).
FULL_PRECISION = ("bf16", "fp16", "fp32")

#: How to keep plans at full quality, as the command line spells it.
FLOOR_HINT = "set a floor with --max-quality-loss PCT, or --lossless for unquantized weights"


def lossless_formats(model: Model) -> tuple[str, ...]:
    """bf16 and, where the checkpoint itself is FP8 (DeepSeek-V3/R1), fp8."""
    native = checkpoint_native_format(model.arch)
    if native is not None and native.compute_dtype == "fp8":
        return ("bf16", "fp8")
    return ("bf16",)


def quality_trade(model: Model, fmt: str, benchmark: str | None = None) -> str | None:
    """One sentence on what serving ``model`` in ``fmt`` costs in quality (None: nothing,
    the format is the model's own precision)."""
    if fmt in FULL_PRECISION or fmt in lossless_formats(model):
        return None
    from ..quality import quality_for

    effect = quality_for(model.id, fmt, benchmark)
    if effect is None:
        return (
            f"{fmt} quantizes the weights; no cited quality figure for this model "
            "(`deepfit eval` measures your deployment)"
        )
    where = f", estimated from {effect.from_model}" if effect.estimate else ""
    return (
        f"{fmt} quantizes the weights: {effect.loss_percent:+.2f}% {effect.metric} loss on "
        f"{effect.benchmark}{where} ({effect.source})"
    )
