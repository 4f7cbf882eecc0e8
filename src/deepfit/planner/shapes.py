"""GPU-independent facts of one parallel shape (format, KV dtype, tp, pp, ep): per stage,
the memory terms and the step's operator costs as affine functions of the tokens a step
carries. They come from the same functions as ``estimate_memory`` and ``estimate_perf``
(evaluated at a few token counts), so the planner's vectorised answers equal theirs."""

from __future__ import annotations

from dataclasses import dataclass

from ..engines import Engine as EngineProfile
from ..memory.formats import WeightFormat
from ..memory.kv import KvSpec, bytes_for_sequence, bytes_per_token
from ..memory.layout import Layout, stage_layers
from ..memory.ledger import Extras, ledger_lines, with_extra_activations
from ..memory.overheads import overheads
from ..memory.plan import stage_plan
from ..models.architecture import Architecture
from ..perf.ops import StepShape, step_ops


@dataclass(frozen=True)
class OpLine:
    """One operator's FLOPs and bytes: ``const + per_decode * D + per_prefill * P``."""

    name: str
    attention: bool  # matmul dtype: the attention's (bf16) rather than the weights'
    flops: tuple[float, float, float]
    bytes: tuple[float, float, float]


@dataclass(frozen=True)
class ExpertLine:
    experts: int
    per_token: int
    flops_per_token: float
    bytes_all: float


@dataclass(frozen=True)
class StageShape:
    layers: range
    weights: float
    activations: float
    non_torch: float
    cudagraph: float
    kv_per_token: float
    kv_per_sequence: float  # one sequence of the workload's context, block-rounded
    ops: tuple[OpLine, ...]
    experts: tuple[ExpertLine, ...]


def _lines(
    arch: Architecture,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    stage: int,
    layers: range,
    prefill_context: float,
    decode_context: float,
) -> tuple[OpLine, ...]:
    def at(d: int, p: int) -> dict[str, tuple[float, float, bool]]:
        shape = StepShape(
            decode_tokens=d,
            decode_context=decode_context,
            prefill_tokens=p,
            prefill_context=prefill_context,
        )
        return {
            o.name: (o.flops, o.bytes, o.compute == "attention")
            for o in step_ops(arch, fmt, kv, layout, stage, layers, shape)
            if o.name != "experts"
        }

    a, b, c = at(1, 0), at(2, 0), at(1, 1)
    out = []
    for name, (fa, ba, attn) in a.items():
        fd, bd = b[name][0] - fa, b[name][1] - ba
        fp, bp = c[name][0] - fa, c[name][1] - ba
        out.append(OpLine(name, attn, (fa - fd, fd, fp), (ba - bd, bd, bp)))
    return tuple(out)


def stage_shapes(
    arch: Architecture,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    profile: EngineProfile,
    input_len: int,
    output_len: int,
    extras: Extras | None = None,
) -> list[StageShape]:
    """Per pipeline stage, everything the planner needs that does not depend on the GPU;
    ``extras`` (draft, MTP, LoRA slots) add their weights and KV as ``estimate_memory`` does."""
    context = input_len + output_len
    out = []
    for stage, layers in enumerate(stage_layers(arch.num_layers, layout.pp)):
        last = stage == layout.pp - 1
        plan = stage_plan(arch, fmt, layout, stage, layers)
        lines = ledger_lines(
            arch,
            fmt,
            kv,
            layout,
            extras or Extras(),
            last=last,
            layers=layers,
            batched_tokens=profile.max_batched_tokens,
        )
        # a drafter SGLang keeps beside its static budget leaves the main pool alone (the
        # planner does not check that its own pool fits beside the budget)
        if profile.budget == "static_fraction":
            lines = tuple(x for x in lines if not x.drafter)
        block = profile.block_tokens
        ov = with_extra_activations(
            overheads(profile, arch, fmt, layout, layers, last, context, 1), lines
        )
        experts = tuple(
            ExpertLine(g.experts, g.per_token, 2 * g.params * g.per_token / g.experts, g.bytes)
            for g in plan.experts
        )
        out.append(
            StageShape(
                layers=layers,
                weights=float(int(plan.weights_bytes) + sum(x.weights_bytes for x in lines)),
                activations=float(ov.activations),
                non_torch=float(ov.non_torch),
                cudagraph=float(ov.cudagraph),
                kv_per_token=bytes_per_token(arch, kv, layers)
                + sum(x.kv_bytes_per_token for x in lines),
                kv_per_sequence=bytes_for_sequence(arch, kv, context, layers, block)
                + sum(x.kv_for(context, block) for x in lines),
                ops=_lines(
                    arch, fmt, kv, layout, stage, layers, input_len / 2, input_len + output_len / 2
                ),
                experts=experts,
            )
        )
    return out
