"""Training memory per GPU, host RAM, throughput, time and cost of one layout.

:func:`estimate_training` is the entry point: model states (:mod:`.states`), activations
(:mod:`.activations`), step time (:mod:`.timing`) at the MFU fitted for the GPU's
generation (:mod:`.mfu`), and the cheapest catalogued price (:mod:`.cost`). All results
are SI: bytes, seconds, tokens/s, US$.

The per-GPU total is the allocated peak of the framework (:mod:`.peak`): the heaviest
pipeline stage's model states plus the largest of the step's high-water marks on the
heaviest stage (an upper bound when the stages differ). ``per_gpu.activations_bytes`` is
what that peak holds beyond the model states (saved activations, loss, temporaries, net of
gradients not yet written). ``reserved_bytes`` adds the caching allocator's overhead and
``fits`` compares NVML-level use (reserved plus CUDA context) with the memory CUDA reports
(:func:`deepfit.memory.device.visible_memory_bytes`), with the margin stated.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..hardware import Gpu
from ..memory.device import visible_memory_bytes
from ..models import Model
from ..models.architecture import Architecture
from .cost import GpuPrice, cheapest_price
from .flops import TokenFlops, flops_per_token
from .framework import THIN_MARGIN, Framework, Runtime, default_framework
from .layout import GPUS_PER_NODE, TrainLayout, make_train_layout
from .lora import lora_params
from .methods import Method, Offload, Recompute
from .mfu import MfuFit, mfu_for, term
from .peak import Peak, act_shape, autocast_fp32, nvml_bytes, peak_memory, reserved_bytes
from .states import ModelStates, Recipe, model_states
from .timing import StepInput, StepTime, compute_peak, micro_batches, step_time
from .traffic import step_traffic


@dataclass(frozen=True)
class Workload:
    """Sequences and steps: tokens per micro-batch, per step, in all."""

    seq_len: int = 4096
    micro_batch: int = 1
    global_batch_tokens: int = 4 * 1024 * 1024  # Llama 2's 4M-token batch
    recompute: Recompute = Recompute.SELECTIVE
    flash: bool = True
    tokens: float | None = None  # tokens to train on; None: no time or cost
    precision: str = "bf16"  # "fp8": matrix multiplies in FP8 (Transformer Engine style)
    pipeline_schedule: str = "1f1b"  # "interleaved" (with virtual_stages) or "zero-bubble"
    virtual_stages: int = 1  # model chunks per GPU under the interleaved schedule

    def __post_init__(self) -> None:
        from ..errors import BadInputError

        if self.precision not in ("bf16", "fp8"):
            raise BadInputError(f"unknown precision {self.precision!r}", "use bf16 or fp8")
        if self.pipeline_schedule not in ("1f1b", "interleaved", "zero-bubble"):
            raise BadInputError(
                f"unknown pipeline schedule {self.pipeline_schedule!r}",
                "use 1f1b, interleaved or zero-bubble",
            )
        if self.virtual_stages < 1:
            raise BadInputError("virtual_stages must be at least 1", "use 1 or more")


@dataclass(frozen=True)
class MemoryPerGpu:
    """Bytes on the heaviest GPU."""

    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    activations_bytes: int  # beyond the model states at the peak (see the module doc)

    @property
    def total_bytes(self) -> int:
        return (
            self.weights_bytes + self.gradients_bytes + self.optimizer_bytes
        ) + self.activations_bytes

    def to_dict(self) -> dict[str, int]:
        return {
            "weights_bytes": self.weights_bytes,
            "gradients_bytes": self.gradients_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "activations_bytes": self.activations_bytes,
            "total_bytes": self.total_bytes,
            "reserved_bytes": reserved_bytes(self.total_bytes),
        }


@dataclass(frozen=True)
class TrainEstimate:
    """Everything about one training layout. Times in s, memory in bytes, prices in US$."""

    model_id: str
    params_total: int
    params_active: int
    gpu: str
    layout: TrainLayout
    recipe: Recipe
    workload: Workload
    per_gpu: MemoryPerGpu
    gpu_memory_bytes: int
    states: ModelStates
    step: StepTime
    flops: TokenFlops
    mfu: MfuFit
    price: GpuPrice | None
    peak_flops: float  # dense 16-bit peak FLOP/s of one GPU (the MFU basis)
    peak: Peak
    runtime: Runtime
    notes: tuple[str, ...] = field(default=())

    @property
    def reserved_bytes(self) -> int:
        return reserved_bytes(self.per_gpu.total_bytes)

    @property
    def nvml_bytes(self) -> int:
        """NVML-level use per GPU: reserved plus CUDA context."""
        return nvml_bytes(self.per_gpu.total_bytes)

    @property
    def margin_bytes(self) -> int:
        """GPU memory left beside NVML-level use (negative: out of memory)."""
        return self.gpu_memory_bytes - self.nvml_bytes

    @property
    def fits(self) -> bool:
        return self.margin_bytes >= 0

    @property
    def thin_margin(self) -> bool:
        """Fits, but with less room than the allocator's run-to-run variation."""
        return self.fits and self.margin_bytes < THIN_MARGIN * self.gpu_memory_bytes

    @property
    def margin_note(self) -> str | None:
        """A warning when the run fits with less room than the allocator varies by."""
        if not self.thin_margin:
            return None
        return (
            f"fits with only {self.margin_bytes / 1e9:.1f} GB to spare "
            f"({self.margin_bytes / self.gpu_memory_bytes:.0%} of the GPU): the caching "
            "allocator's overhead varies by 5-20 % between runs, so this may run out of memory"
        )

    @property
    def host_bytes(self) -> int:
        return self.states.host_bytes

    @property
    def host_bytes_per_node(self) -> int:
        nodes = -(-self.layout.gpus // GPUS_PER_NODE)
        return -(-self.states.host_bytes // nodes)

    @property
    def tokens_per_s(self) -> float:
        return self.step.tokens / self.step.seconds

    @property
    def time_s(self) -> float | None:
        return None if self.workload.tokens is None else self.workload.tokens / self.tokens_per_s

    @property
    def gpu_hours(self) -> float | None:
        t = self.time_s
        return None if t is None else t * self.layout.gpus / 3600

    @property
    def usd(self) -> float | None:
        hours = self.gpu_hours
        return None if hours is None or self.price is None else hours * self.price.usd_per_gpu_hour

    @property
    def achieved_mfu(self) -> float:
        """Model FLOPs per second per GPU over the dense 16-bit peak, after bubbles and
        communication (FP8 runs are on the same 16-bit basis)."""
        return self.flops.model * self.tokens_per_s / (self.layout.gpus * self.peak_flops)

    @property
    def whole_run_gpu_hours(self) -> float | None:
        """GPU-hours a whole run of ``workload.tokens`` takes with its failures, restarts
        and evaluation: steady-state hours over the fitted goodput (:mod:`.mfu`)."""
        hours = self.gpu_hours
        return None if hours is None else hours / term("goodput")

    def to_dict(self) -> dict[str, Any]:
        lay, w = self.layout, self.workload
        return {
            "model": {
                "id": self.model_id,
                "params_total": self.params_total,
                "params_active": self.params_active,
            },
            "gpu": self.gpu,
            "gpus": lay.gpus,
            "method": self.recipe.method.value,
            "optimizer": self.recipe.optimizer.spec.name,
            "layout": {
                "tp": lay.tp,
                "pp": lay.pp,
                "ep": lay.ep,
                "dp": lay.dp,
                "zero": lay.zero,
                "offload": lay.offload.value,
                "hybrid_shard": lay.hybrid,
                "sequence_parallel": lay.sequence_parallel and lay.tp > 1,
            },
            "workload": {
                "seq_len": w.seq_len,
                "micro_batch": w.micro_batch,
                "global_batch_tokens": self.step.tokens,
                "recompute": w.recompute.value,
                "flash_attention": w.flash,
                "tokens": w.tokens,
            },
            "trainable_params": self.states.trainable_params,
            "per_gpu": self.per_gpu.to_dict(),
            "zero3_buffer_bytes": self.states.zero3_buffer_bytes,
            "framework": self.runtime.framework.spec.name,
            "memory_peak": {
                **self.peak.to_dict(),
                "allocated_bytes": self.per_gpu.total_bytes,
                "reserved_bytes": self.reserved_bytes,
                "nvml_bytes": self.nvml_bytes,
            },
            "gpu_memory_bytes": self.gpu_memory_bytes,
            "fits": self.fits,
            "margin_bytes": self.margin_bytes,
            "thin_margin": self.thin_margin,
            "host_bytes": self.host_bytes,
            "host_bytes_per_node": self.host_bytes_per_node,
            "flops_per_token": {"model": self.flops.model, "hardware": self.flops.hardware},
            "mfu": {**self.mfu.to_dict(), "achieved": self.achieved_mfu},
            "step": self.step.to_dict(),
            "tokens_per_s": self.tokens_per_s,
            "time_s": self.time_s,
            "gpu_hours": self.gpu_hours,
            "whole_run": {"goodput": term("goodput"), "gpu_hours": self.whole_run_gpu_hours},
            "usd": self.usd,
            "price": None if self.price is None else self.price.to_dict(),
            "source": "fitted" if self.mfu.source == "fitted" else "assumed",
            "notes": list(self.notes) + ([self.margin_note] if self.margin_note else []),
        }


def estimate_training(
    model: Model,
    gpu: Gpu,
    gpus: int,
    *,
    recipe: Recipe | None = None,
    workload: Workload | None = None,
    tp: int = 1,
    pp: int = 1,
    ep: int = 1,
    zero: int = 0,
    offload: Offload = Offload.NONE,
    hybrid: bool = False,
    runtime: Runtime | None = None,
) -> TrainEstimate:
    """Memory, time and cost of training ``model`` on ``gpus`` x ``gpu`` with one layout.
    ``runtime`` names the framework family (default: :func:`.framework.default_framework`)."""
    recipe = recipe or Recipe()
    w = workload or Workload()
    rt = runtime or Runtime(default_framework(tp, pp, offload is not Offload.NONE))
    arch = model.arch
    lay = make_train_layout(
        arch, gpus, tp=tp, pp=pp, ep=ep, zero=zero, offload=offload, hybrid=hybrid
    )
    states = _gathered_frozen_base(model_states(arch, lay, recipe), lay, recipe, rt)
    states = _autocast_states(states, lay, recipe, rt)
    adapters = lora_params(arch, recipe.lora) if recipe.method is not Method.FULL else 0
    flops = flops_per_token(arch, w.seq_len, recipe.method, adapters, w.recompute, w.flash)
    if w.recompute is Recompute.SELECTIVE and rt.framework is Framework.FSDP:
        # torchtitan's selective AC recomputes every other layer whole
        full = flops_per_token(arch, w.seq_len, recipe.method, adapters, Recompute.FULL)
        flops = TokenFlops(
            flops.model,
            (flops.hardware + full.hardware) / 2,
            (flops.attention + full.attention) / 2,
        )
    fit = mfu_for(gpu)
    spec = rt.framework.spec
    step_in = StepInput(
        w.seq_len,
        w.micro_batch,
        w.global_batch_tokens,
        w.recompute,
        flops.hardware,
        fit.hfu,
        virtual_stages=w.virtual_stages if w.pipeline_schedule == "interleaved" else 1,
        zero_bubble=w.pipeline_schedule == "zero-bubble",
        dp_overlap=spec.dp_overlap,
        tp_overlap=spec.tp_overlap,
        speedup=term("fp8_matmul_gain") if w.precision == "fp8" else 1.0,
        zero3_gathers=3
        if rt.framework is Framework.DEEPSPEED and w.recompute is Recompute.FULL
        else 2,
        dp_shares_nics=spec.dp_shares_nics,
        attention_flops_per_token=flops.attention,
        attention_mfu=fit.attention_utilization,
    )
    m = micro_batches(step_in, lay)
    step_in = replace(step_in, traffic_bytes=_traffic(arch, recipe, rt, w, lay, states, m))
    shape = act_shape(arch, lay, w.seq_len, w.micro_batch, w.flash, recipe, rt)
    peak = peak_memory(arch, lay, states, recipe, shape, w.recompute, rt, m)
    beyond = peak.transient - states.gradients_bytes
    per_gpu = MemoryPerGpu(
        states.weights_bytes,
        states.gradients_bytes,
        states.optimizer_bytes,
        max(0, round(beyond)),
    )
    return TrainEstimate(
        model_id=model.id,
        params_total=model.params.total,
        params_active=model.params.active,
        gpu=gpu.name,
        layout=lay,
        recipe=recipe,
        workload=w,
        per_gpu=per_gpu,
        gpu_memory_bytes=visible_memory_bytes(gpu),
        states=states,
        step=step_time(arch, gpu, lay, states, step_in),
        flops=flops,
        mfu=fit,
        price=cheapest_price(gpu),
        peak_flops=compute_peak(gpu),
        peak=peak,
        runtime=rt,
        notes=_notes(recipe, lay, fit),
    )


def _gathered_frozen_base(
    states: ModelStates, lay: TrainLayout, recipe: Recipe, rt: Runtime
) -> ModelStates:
    """LitGPT's and torchtune's FSDP LoRA keep the frozen base gathered: the GPU holds its
    shard and the whole unsharded base (their FSDP peaks equal single-GPU peaks)."""
    if recipe.method is Method.FULL or lay.zero < 3 or not rt.framework.spec.frozen_base_gathered:
        return states
    whole = states.slice_weight_bytes * (1 + 1 / lay.dp)
    return replace(states, weights_bytes=max(states.weights_bytes, round(whole)))


def _traffic(arch: Architecture, recipe: Recipe, rt: Runtime, w: Workload, lay: TrainLayout,
             states: ModelStates, m: int) -> float:  # fmt: skip
    """Bytes one GPU streams per step outside the matmuls (:mod:`.traffic`)."""
    tokens = m * w.seq_len * w.micro_batch / max(lay.pp, 1)  # per GPU of a pipeline
    opt_params = states.slice_trainable_params / (lay.dp if lay.zero >= 1 else 1)
    return step_traffic(
        arch, recipe, rt, w.recompute, tokens, m, states.slice_trainable_params, opt_params,
        lay.tp, lay.offload, autocast_fp32(recipe, rt),
    )  # fmt: skip


def _autocast_states(
    states: ModelStates, lay: TrainLayout, recipe: Recipe, rt: Runtime
) -> ModelStates:
    """Autocast over fp32 weights (:func:`.peak.autocast_fp32`): the fp32 master copy is the
    model's weights and the gradients are fp32 too; the bytes per parameter stay 16."""
    if not autocast_fp32(recipe, rt) or lay.offload is not Offload.NONE:
        return states
    opt = recipe.optimizer.spec
    widen = (opt.master_bytes - opt.weight_bytes) * states.slice_trainable_params
    shard = lay.dp if lay.zero >= 1 else 1
    return replace(
        states,
        weights_bytes=states.weights_bytes + round(widen / (lay.dp if lay.zero >= 3 else 1)),
        gradients_bytes=states.gradients_bytes + round(widen / (lay.dp if lay.zero >= 2 else 1)),
        optimizer_bytes=states.optimizer_bytes
        - round(opt.master_bytes * states.slice_trainable_params / shard),
    )


def _notes(recipe: Recipe, lay: TrainLayout, fit: MfuFit) -> tuple[str, ...]:
    notes = []
    if fit.source == "borrowed":
        notes.append(
            f"no published training run on {fit.generation} GPUs was fitted: the compute "
            f"utilization is {fit.borrowed_from}'s ({fit.hfu:.0%}), unvalidated"
        )
    if lay.offload is not Offload.NONE:
        notes.append("CPU Adam's own time is not modelled: offloaded step times are a lower bound")
    if recipe.method is Method.QLORA:
        notes.append("NF4 dequantization time is not modelled; QLoRA time is a lower bound")
    return tuple(notes)
