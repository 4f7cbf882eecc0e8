"""Vectorised evaluation of one parallel shape over every GPU type and a concurrency sweep:
the same roofline, communication and serving model as ``estimate_perf`` (``perf/serving.py``,
``perf/roofline.py``), on numpy arrays. ``tests/unit/test_planner.py`` checks that both give
the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engines import Engine as EngineProfile
from ..hardware import Gpu
from ..memory.budget import budget_and_pool
from ..memory.device import visible_memory_bytes
from ..memory.formats import WeightFormat
from ..memory.layout import Layout
from ..models.architecture import Architecture
from ..perf.comm import comm_per_token
from ..perf.efficiency import Efficiency
from ..perf.roofline import matmul_dtype
from ..perf.terms import collective_latency
from .shapes import StageShape


@dataclass(frozen=True)
class GpuFacts:
    """What the evaluation needs of each GPU type, as arrays over the GPU list."""

    gpus: list[Gpu]
    memory: Any  # np.ndarray, visible bytes
    bandwidth: Any  # bytes/s achieved (peak x the vendor's bandwidth efficiency)
    weights_peak: Any  # FLOP/s achieved in the format's matmul dtype
    attention_peak: Any  # FLOP/s achieved in bf16/fp16
    alpha_local: Any  # s, latency of one collective call inside a node


def gpu_facts(gpus: list[Gpu], fmt: WeightFormat) -> GpuFacts:
    import numpy as np

    from ..perf import terms

    def achieved(g: Gpu, wanted: str) -> float:
        dtype = matmul_dtype(g, wanted)
        return g.peak_flops(dtype) * terms.compute_efficiency(g, dtype)

    wanted = terms.weights_compute_dtype(fmt)
    return GpuFacts(
        gpus,
        np.array([visible_memory_bytes(g) for g in gpus], dtype=float),
        np.array(
            [g.require_mem_bandwidth_bytes_per_s() * terms.bandwidth_efficiency(g) for g in gpus],
            dtype=float,
        ),
        np.array([achieved(g, wanted) for g in gpus], dtype=float),
        np.array([achieved(g, "bf16") for g in gpus], dtype=float),
        np.array([terms.collective_latency(terms.intra_node_link(g)) for g in gpus], dtype=float),
    )


@dataclass(frozen=True)
class ShapeResult:
    """Arrays over (GPU type, concurrency) for one replica of one shape."""

    requested: Any  # (N,) sequences per replica asked for
    running: Any  # (N,) sequences per replica the step budget lets run
    max_per_replica: Any  # (G,) sequences the KV pool holds per replica
    max_seqs: Any  # (G,) the engine's cap on running sequences per replica
    weights_fit: Any  # (G,) bool
    tpot: Any  # (G, N) seconds
    ttft: Any  # (G, N) seconds
    bound: Any  # (G, N) str: memory / compute / communication
    prefill: Any = None  # (G, 1) seconds to prefill one prompt


def _stage_times(
    st: StageShape,
    arch: Architecture,
    layout: Layout,
    facts: GpuFacts,
    eff: Efficiency,
    decode: Any,
    prefill: Any,
) -> tuple[Any, Any, Any, Any]:
    """(step, memory-bound, communication, compute-bound seconds) on every GPU (rows) for
    token arrays ``decode``, ``prefill`` (columns)."""
    import numpy as np

    bw = facts.bandwidth[:, None] * eff.bandwidth
    shape = np.broadcast(facts.bandwidth[:, None], decode).shape
    total = np.zeros(shape)
    mem_part = np.zeros(shape)
    comp_part = np.zeros(shape)
    for line in st.ops:
        d = np.maximum(decode, 1) if line.name == "lm_head" else decode
        flops = line.flops[0] + line.flops[1] * d + line.flops[2] * prefill
        nbytes = line.bytes[0] + line.bytes[1] * d + line.bytes[2] * prefill
        peak = (facts.attention_peak if line.attention else facts.weights_peak)[:, None]
        t_c = flops / (peak * eff.compute)
        t_m = nbytes / bw
        total += np.maximum(t_c, t_m)
        mem_part += np.where(t_m >= t_c, t_m, 0.0)
        comp_part += np.where(t_m >= t_c, 0.0, t_c)
    tokens = decode + prefill
    tile = float(eff.gemm_tile_rows)
    for g in st.experts:
        hit = 1.0 - (1.0 - g.per_token / g.experts) ** tokens
        # grouped GEMM: tokens per touched expert fill ceil(rows / tile) tensor-core tiles
        rows = np.where(hit > 0, tokens * g.per_token / np.maximum(hit * g.experts, 1e-30), 0.0)
        fill = np.where(
            (rows > 0) & (tile > 0), rows / (tile * np.ceil(rows / max(tile, 1.0))), 1.0
        )
        t_c = g.flops_per_token * tokens / (facts.weights_peak[:, None] * eff.compute * fill)
        t_m = g.bytes_all * hit / (bw * eff.moe_efficiency)
        total += np.maximum(t_c, t_m)
        mem_part += np.where(t_m >= t_c, t_m, 0.0)
        comp_part += np.where(t_m >= t_c, 0.0, t_c)
    total = total + len(st.layers) * eff.layer_floor_s
    units = [comm_per_token(arch, gpu.name, layout, st.layers) for gpu in facts.gpus]
    per_token = np.array([u[0] for u in units])[:, None]
    calls, remote = units[0][1], units[0][2]
    alpha = (calls - remote) * facts.alpha_local[:, None] + remote * collective_latency(
        "infiniband"
    )
    comm = per_token * tokens / eff.comm_efficiency + alpha
    total = total + comm + eff.step_overhead_s + eff.token_overhead_s * decode
    return total, mem_part, comm * np.ones(shape), comp_part


def _kv_limit(
    stages: list[StageShape],
    facts: GpuFacts,
    profile: EngineProfile,
    fraction: float | None,
    layout: Layout,
) -> tuple[Any, Any]:
    import numpy as np

    max_rep = np.full(len(facts.gpus), np.inf)
    weights_fit = np.ones(len(facts.gpus), dtype=bool)
    for st in stages:
        _, pool = budget_and_pool(
            profile.budget,
            facts.memory,
            fraction,
            st.weights,
            st.activations,
            st.non_torch,
            st.cudagraph,
            profile.cudagraph_in_budget,
        )
        weights_fit &= pool > 0
        seqs = np.floor(np.maximum(pool, 0) / st.kv_per_sequence)
        max_rep = np.minimum(max_rep, seqs)
    return max_rep * layout.kv_ranks, weights_fit


def evaluate_shape(
    stages: list[StageShape],
    arch: Architecture,
    layout: Layout,
    facts: GpuFacts,
    eff: Efficiency,
    profile: EngineProfile,
    fraction: float | None,
    input_len: int,
    output_len: int,
    sweep: list[int],
    prefix_hit_rate: float = 0.0,
) -> ShapeResult:
    import numpy as np

    n = np.array(sweep, dtype=float)
    max_rep, weights_fit = _kv_limit(stages, facts, profile, fraction, layout)
    prompt = input_len * (1.0 - prefix_hit_rate)
    micro = np.maximum(1.0, np.ceil(n / layout.pp))
    prefill = np.where(n > 1, micro * prompt / output_len, 0.0)
    budget = float(eff.max_batched_tokens)
    over = (n > 1) & (micro + prefill > budget)
    capped = np.maximum(
        1.0, np.minimum(micro, np.floor(budget * output_len / (output_len + prompt)))
    )
    micro = np.where(over, capped, micro)
    prefill = np.round(np.where(over, np.maximum(0.0, budget - micro), prefill))
    decode_t = np.zeros((len(facts.gpus), len(sweep)))
    mixed_t = np.zeros_like(decode_t)
    mem_t = np.zeros_like(decode_t)
    comm_t = np.zeros_like(decode_t)
    comp_t = np.zeros_like(decode_t)
    pre_t = np.zeros((len(facts.gpus), 1))
    chunk = float(min(max(1, round(prompt)), eff.max_batched_tokens))
    chunks = -(-max(1, round(prompt)) // int(chunk))
    # the prompt's chunk mixed into a decode step (as serving.decode_step)
    mix = np.maximum(np.maximum(1.0, np.minimum(round(prompt), budget - micro)), prefill)
    m_cols = len(sweep)
    # one call per stage: decode-only steps, mixed steps and, last, a prefill chunk
    dec = np.concatenate([micro, micro, [0.0]])[None, :]
    pre = np.concatenate([np.zeros(m_cols), mix, [chunk]])[None, :]
    for st in stages:
        t, m, c, k = _stage_times(st, arch, layout, facts, eff, dec, pre)
        t_d = t[:, :m_cols]
        slower = t_d > decode_t
        decode_t = np.where(slower, t_d, decode_t)
        mem_t = np.where(slower, m[:, :m_cols], mem_t)
        comm_t = np.where(slower, c[:, :m_cols], comm_t)
        comp_t = np.where(slower, k[:, :m_cols], comp_t)
        mixed_t = np.maximum(mixed_t, t[:, m_cols:-1])
        pre_t = np.maximum(pre_t, t[:, -1:])
    share = np.where(prefill > 0, prefill / mix, 0.0)[None, :]
    decode_t = decode_t + share * (mixed_t - decode_t)
    tpot = decode_t * layout.pp
    prefill_s = pre_t * chunks * layout.pp
    ttft = eff.request_overhead_s + prefill_s + np.where(n[None, :] > 1, tpot, 0.0)
    bound = np.where(
        (comm_t > mem_t) & (comm_t > comp_t),
        "communication",
        np.where(comp_t > mem_t, "compute", "memory"),
    )
    large = facts.memory >= profile.serving.large_gpu_bytes
    max_seqs = np.where(large, eff.max_num_seqs_large_gpu, eff.max_num_seqs).astype(float)
    return ShapeResult(
        n, micro * layout.pp, max_rep, max_seqs, weights_fit, tpot, ttft, bound, prefill_s
    )
