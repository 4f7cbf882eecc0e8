"""The roofline: each operator takes the longer of its compute time and its memory time."""

from __future__ import annotations

from dataclasses import dataclass

from ..hardware import Gpu
from ..hardware.gpu import Missing
from ..memory.formats import WeightFormat
from .comm import CommCost
from .efficiency import Efficiency
from .ops import OpCost

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

    @property
    def seconds(self) -> float:
        return sum(o.seconds for o in self.ops) + self.comm_s + self.overhead_s

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
) -> StepTime:
    weights_dtype = matmul_dtype(gpu, fmt.compute_dtype)
    attention_dtype = matmul_dtype(gpu, "bf16")
    bandwidth = gpu.require_mem_bandwidth_bytes_per_s() * eff.bandwidth
    timed = []
    for op in ops:
        dtype = weights_dtype if op.compute == "weights" else attention_dtype
        scale = eff.moe_efficiency if op.name == "experts" else 1.0
        peak = gpu.peak_flops(dtype) * eff.compute * scale
        timed.append(OpTime(op, op.flops / peak, op.bytes / (bandwidth * scale)))
    comm_s = comm.seconds / eff.comm_efficiency + comm.collectives * eff.collective_latency_s
    overhead = eff.step_overhead_s + eff.token_overhead_s * tokens
    return StepTime(tuple(timed), comm_s, overhead, tokens, comm.seconds / eff.comm_efficiency)
