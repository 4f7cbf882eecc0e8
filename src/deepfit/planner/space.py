"""The search space: GPU types, weight formats, KV dtypes and parallel layouts, and which
GPU can run which format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import DeepfitError
from ..hardware import Gpu, list_gpus, load_gpu
from ..memory.formats import WeightFormat
from ..memory.layout import Layout
from ..models.architecture import Architecture

DEFAULT_FORMATS = ("bf16", "fp8", "awq-int4", "nvfp4")
DEFAULT_KV = ("bf16", "fp8")
GPUS_PER_NODE = 8
#: Concurrencies tried per replica: powers of two and the points halfway between (on a log
#: scale), so a plan can land between 64 and 128 where the step budget or an SLO bites.
SWEEP = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def _usable(gpu: Gpu) -> bool:
    """A GPU the model can price: memory, bandwidth and 16-bit matmul rate are sourced."""
    try:
        gpu.require_memory_bytes()
        gpu.require_mem_bandwidth_bytes_per_s()
    except DeepfitError:
        return False
    for dtype in ("bf16", "fp16"):
        try:
            gpu.peak_flops(dtype)
            return True
        except DeepfitError:
            continue
    return False


def candidate_gpus(names: list[str] | None) -> list[Gpu]:
    """The named GPUs, or every catalogue GPU with the numbers a plan needs."""
    gpus = [load_gpu(n) for n in names] if names else list_gpus()
    return [g for g in gpus if g.name != "cpu" and _usable(g)]


def runs_format(gpu: Gpu, fmt: WeightFormat) -> str | None:
    """Why ``gpu`` cannot run ``fmt`` with the serving engines, or None if it can.

    FP4 formats need FP4 tensor cores (Blackwell); weight-only FP8/INT4 kernels (Marlin)
    need bf16 tensor cores (Ampere and newer) and upcast where FP8 math is missing; W8A8
    INT8 needs INT8 tensor cores."""
    dtype = fmt.compute_dtype
    if fmt.name in ("nvfp4", "mxfp4"):
        if not _known(gpu, "fp4"):
            return f"{gpu.name} has no FP4 tensor cores for {fmt.name}"
        return None
    if fmt.is_quantized and not gpu.supports("bf16"):
        return f"{gpu.name} lacks the bf16 tensor cores {fmt.name} kernels need"
    if fmt.is_quantized and not _known(gpu, "bf16"):
        return f"the catalogue has no sourced bf16 tensor rate for {gpu.name}"
    if dtype == "int8" and not _known(gpu, "int8"):
        return f"{gpu.name} has no INT8 tensor-core rate in the catalogue"
    return None


def _known(gpu: Gpu, dtype: str) -> bool:
    try:
        gpu.peak_flops(dtype)
        return True
    except DeepfitError:
        return False


@dataclass(frozen=True)
class LayoutFamily:
    """tp x pp (x ep) for one replica; data parallelism multiplies it. ``attention_dp``:
    the tp ranks run attention data-parallel (each on its own sequences, whole heads) and
    the experts expert-parallel over them (SGLang ``--enable-dp-attention``, vLLM
    ``--data-parallel-size`` with ``--enable-expert-parallel``)."""

    tp: int
    pp: int
    ep: int
    attention_dp: bool = False

    def layout(self) -> Layout:
        return Layout(tp=self.tp, pp=self.pp, ep=self.ep, attention_dp=self.attention_dp)


def layouts(arch: Architecture, max_gpus: int) -> Iterator[LayoutFamily]:
    """Tensor parallelism inside a node (any size that divides the heads), pipeline stages
    only on top of the widest tensor-parallel group (across nodes, as deployments do:
    splitting layers while a node still has NVLink-connected GPUs for TP only adds
    bubbles), and for MoE models expert parallelism over the tensor-parallel ranks, with
    attention tensor-parallel or data-parallel (DP attention + EP, one pipeline stage)."""
    heads = arch.layers[0].attention.num_heads
    experts = max((la.moe.num_experts for la in arch.layers if la.moe), default=0)
    widths = [tp for tp in (1, 2, 4, 8) if heads % tp == 0 and tp <= max_gpus]
    for tp in widths:
        pp = 1
        while tp * pp <= max_gpus and pp <= arch.num_layers:
            yield LayoutFamily(tp, pp, 1)
            if experts and tp > 1 and experts % tp == 0:
                yield LayoutFamily(tp, pp, tp)
                if pp == 1:
                    yield LayoutFamily(tp, pp, tp, attention_dp=True)
            if tp != widths[-1]:
                break
            pp *= 2


def replicas(family: LayoutFamily, max_gpus: int) -> list[int]:
    out, dp = [], 1
    while family.tp * family.pp * dp <= max_gpus:
        out.append(dp)
        dp *= 2
    return out
