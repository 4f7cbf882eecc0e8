"""The roofline: each operator takes the longer of its compute time and its memory time, at
the achieved (not peak) bandwidth and tensor throughput of the GPU (``terms.py``); the
layers add their kernels' fixed latency; collectives add their latency
(alpha, by link) to their bytes over the link (beta); the engine adds its host overheads."""

from __future__ import annotations

from dataclasses import dataclass

from ..hardware import Gpu
from ..hardware.gpu import Missing
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

_HALF = ("bf16", "fp16")


def matmul_dtype(gpu: Gpu, wanted: str) -> str:
    """The dtype the GPU really multiplies in: the format's own when the hardware has it,
    else 16-bit (weight-only kernels dequantize, e.g. FP8 or INT4 weights on an A100), and
    fp32 only where the hardware has no 16-bit math.

    A quantized format without a rate falls to the 16-bit path its kernels also have. A
    16-bit rate the catalogue has no source for may be stood in for only by the other 16-bit
    format (bf16 and fp16 share the tensor cores), never by fp32: it raises
    :class:`CatalogError` instead of a silent 4x slower figure.
    """
    half_missing: str | None = None
    for dtype in (wanted, *(d for d in (*_HALF, "fp32") if d != wanted)):
        if dtype == "fp32" and half_missing is not None:
            break
        if not gpu.supports(dtype):
            continue
        if not isinstance(gpu.peak_ops_per_s.get(dtype), Missing):
            return dtype
        if dtype in _HALF:
            half_missing = half_missing or dtype
    if half_missing is not None:
        gpu.peak_flops(half_missing)  # raises, naming the figure the catalogue lacks
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
    floor_s: float = 0.0  # the layers' kernel latency, on top of the operators' work

    @property
    def seconds(self) -> float:
        return sum(o.seconds for o in self.ops) + self.floor_s + self.comm_s + self.overhead_s

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
