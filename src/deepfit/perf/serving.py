"""Serving at steady state with continuous batching.

With ``N`` sequences running, every step emits one token per sequence and, with chunked
prefill, also processes the prompts of the sequences that replace finished ones: ``N * I / O``
prompt tokens per step on average (``I`` input, ``O`` output tokens per request). The time
of that mixed step is the time per output token; ``N`` / TPOT is the output throughput.
TTFT is the prefill of one prompt plus one mixed step (no queueing). With pipeline
parallelism the batch runs as ``pp`` micro-batches that keep every stage busy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..hardware import Gpu
from ..memory.formats import WeightFormat
from ..memory.kv import KvSpec
from ..memory.layout import Layout, stage_layers
from ..models.architecture import Architecture
from .comm import step_comm
from .efficiency import Efficiency
from .ops import StepShape, step_ops
from .roofline import StepTime, step_time


@dataclass(frozen=True)
class Workload:
    input_tokens: int
    output_tokens: int
    concurrency: int
    prefix_hit_rate: float = 0.0  # share of prompt tokens served from the prefix cache


def pipeline_step(
    arch: Architecture,
    gpu: Gpu,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    eff: Efficiency,
    shape: StepShape,
) -> StepTime:
    """The slowest stage's step (what sets the pipeline's pace) for ``shape`` tokens."""
    slowest: StepTime | None = None
    for stage, layers in enumerate(stage_layers(arch.num_layers, layout.pp)):
        ops = step_ops(arch, fmt, kv, layout, stage, layers, shape)
        comm = step_comm(arch, gpu, layout, layers, shape.tokens)
        # host time per token is per sampled token (decoding sequences), not per prompt token
        t = step_time(ops, comm, gpu, fmt, eff, shape.decode_tokens, len(layers))
        if slowest is None or t.seconds > slowest.seconds:
            slowest = t
    assert slowest is not None
    return slowest


def decode_step(
    arch: Architecture,
    gpu: Gpu,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    eff: Efficiency,
    work: Workload,
) -> tuple[StepTime, float, int]:
    """(slowest stage's decode-only step, time per output token, sequences running per
    replica) at steady state for one replica.

    Every step decodes one token per running sequence; new prompts arrive at ``N / O`` per
    step and are prefilled in chunks as large as the step's token budget
    (``max_batched_tokens``) leaves, mixed into a decode step. The time per output token is
    the decode-only step plus the share of steps that carry a chunk times what the chunk
    adds: weights read once serve both, so a prompt prefilled in one chunk costs far less
    than the same tokens spread thinly over many steps (which would touch every MoE expert
    in every step). At most ``budget * O / (I + O)`` sequences can run at once in steady
    state; beyond that, requests wait for admission.
    """
    per_replica = max(1, -(-work.concurrency // layout.dp))
    micro = max(1, -(-per_replica // layout.pp))
    prompt = work.input_tokens * (1.0 - work.prefix_hit_rate)
    prefill = micro * prompt / work.output_tokens if per_replica > 1 else 0.0
    budget = eff.max_batched_tokens
    if per_replica > 1 and micro + prefill > budget:
        micro = max(1, min(micro, int(budget * work.output_tokens / (work.output_tokens + prompt))))
        prefill = max(0.0, budget - micro)
    per_step = round(prefill)
    context = work.input_tokens + work.output_tokens / 2
    decode = StepShape(decode_tokens=micro, decode_context=context)
    step = pipeline_step(arch, gpu, fmt, kv, layout, eff, decode)
    seconds = step.seconds
    if per_step > 0:
        chunk = max(1, min(round(prompt), budget - micro), per_step)
        mixed = StepShape(
            decode_tokens=micro,
            decode_context=context,
            prefill_tokens=chunk,
            prefill_context=work.input_tokens / 2,
        )
        with_chunk = pipeline_step(arch, gpu, fmt, kv, layout, eff, mixed).seconds
        seconds += per_step / chunk * (with_chunk - step.seconds)
    return step, seconds * layout.pp, micro * layout.pp


def prefill_time(
    arch: Architecture,
    gpu: Gpu,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    eff: Efficiency,
    work: Workload,
) -> tuple[StepTime, float]:
    """Prefill of one prompt, in chunks of the engine's batched-token budget."""
    prompt = max(1, round(work.input_tokens * (1.0 - work.prefix_hit_rate)))
    chunk = min(prompt, eff.max_batched_tokens)
    chunks = -(-prompt // chunk)
    shape = StepShape(prefill_tokens=chunk, prefill_context=work.input_tokens / 2)
    step = pipeline_step(arch, gpu, fmt, kv, layout, eff, shape)
    return step, chunks * step.seconds * layout.pp
