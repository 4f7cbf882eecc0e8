"""The roofline: each operator takes the longer of its compute time and its memory time, at
the achieved (not peak) bandwidth and tensor throughput of the GPU (``terms.py``); the
step's operators take at least the per-layer kernel floor; collectives add their latency
(alpha, by link) to their bytes over the link (beta); the engine adds its host overheads."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DeepfitError
from ..hardware import Gpu
from ..memory.formats import WeightFormat
from .comm import CommCost
from .efficiency import Efficiency
from .ops import OpCost
from .terms import (
    bandwidth_efficiency,
    collective_latency,
    compute_efficiency,
    intra_node_link,
    tile_efficiency,
    weights_compute_dtype,
)

_MATMUL: dict[tuple[str, str], str] = {}


def matmul_dtype(gpu: Gpu, wanted: str) -> str:
    """The dtype the GPU really multiplies in: the format's own when the hardware has it,
    else 16-bit (weight-only kernels upcast, e.g. FP8 or INT4 weights on an A100)."""
    key = (gpu.name, wanted)
    if (hit := _MATMUL.get(key)) is None:
        hit = _MATMUL[key] = _matmul_dtype(gpu, wanted)
    return hit


def _matmul_dtype(gpu: Gpu, wanted: str) -> str:
    for dtype in (wanted, "bf16", "fp16", "fp32"):
        try:
            gpu.peak_flops(dtype)
            return dtype
        except DeepfitError:
            continue
    return wanted


_PEAKS: dict[tuple[str, str, float], float] = {}


def achieved_peak(gpu: Gpu, wanted: str) -> float:
    """Dense FLOP/s the GPU achieves multiplying ``wanted`` operands (the dtype it really
    multiplies in, times the compute-efficiency term), memoised per GPU and dtype."""
    dtype = matmul_dtype(gpu, wanted)
    eff = compute_efficiency(gpu, dtype)
    key = (gpu.name, dtype, eff)
    if (hit := _PEAKS.get(key)) is None:
        hit = _PEAKS[key] = gpu.peak_flops(dtype) * eff
    return hit


@dataclass(frozen=True)
class OpTime:
    op: OpCost
    compute_s: float
    memory_s: float

    @property
    def seconds(self) -> float:
        return max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s > self.memory_s else "memory"


@dataclass(frozen=True)
class StepTime:
    """One forward step on one GPU, in seconds."""

    ops: tuple[OpTime, ...]
    comm_s: float
    overhead_s: float
    tokens: int = 0
    comm_bandwidth_s: float = 0.0  # the bandwidth part of comm_s (without latencies)
    floor_s: float = 0.0  # the layers' kernel latency floor under the operators' time

    @property
    def seconds(self) -> float:
        ops = max(sum(o.seconds for o in self.ops), self.floor_s)
        return ops + self.comm_s + self.overhead_s

    @property
    def bound(self) -> str:
        shares = {"memory": 0.0, "compute": 0.0, "communication": self.comm_s}
        for o in self.ops:
            shares[o.bound] += o.seconds
        return max(shares, key=lambda k: shares[k])


def step_time(
    ops: list[OpCost],
    comm: CommCost,
    gpu: Gpu,
    fmt: WeightFormat,
    eff: Efficiency,
    tokens: int = 0,
    layers: int = 0,
) -> StepTime:
    bandwidth = gpu.require_mem_bandwidth_bytes_per_s() * bandwidth_efficiency(gpu) * eff.bandwidth
    peaks = {
        "weights": achieved_peak(gpu, weights_compute_dtype(fmt)) * eff.compute,
        "attention": achieved_peak(gpu, "bf16") * eff.compute,
    }
    timed = []
    for op in ops:
        peak = peaks["weights" if op.compute == "weights" else "attention"]
        bw = bandwidth
        if op.name == "experts":
            peak *= tile_efficiency(op.rows_per_expert, eff.gemm_tile_rows)
            bw *= eff.moe_efficiency
        timed.append(OpTime(op, op.flops / peak, op.bytes / bw))
    beta = comm.seconds / eff.comm_efficiency
    alpha = (comm.collectives - comm.remote) * collective_latency(intra_node_link(gpu))
    alpha += comm.remote * collective_latency("infiniband")
    overhead = eff.step_overhead_s + eff.token_overhead_s * tokens
    return StepTime(tuple(timed), beta + alpha, overhead, tokens, beta, layers * eff.layer_floor_s)
