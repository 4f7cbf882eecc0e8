"""What deepfit knows about one engine (or one engine version), read from its ``engine.json``.

Everything an engine changes lives here: how it budgets GPU memory, its overhead model, the
roofline efficiency fitted on its published runs, its serving defaults, and what its
exporter may write (formats, KV dtypes, flag spellings, setup line). Units: bytes, tokens,
seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import CatalogError

Budget = Literal["fraction_of_total", "static_fraction", "fraction_of_free", "exact"]
BUDGETS: tuple[Budget, ...] = ("fraction_of_total", "static_fraction", "fraction_of_free", "exact")
OverheadKind = Literal["profiled", "compute_buffers", "prefill_peak"]
OVERHEAD_KINDS: tuple[OverheadKind, ...] = ("profiled", "compute_buffers", "prefill_peak")

#: The fitted terms a ``profiled`` overhead model needs (see memory/overheads.py).
PROFILED_TERMS = (
    "act_base_bytes",
    "act_per_vocab_bytes",
    "cudagraph_base_bytes",
    "cudagraph_per_layer_bytes",
    "non_torch_single_bytes",
    "non_torch_tp_bytes",
    "non_torch_pp_bytes",
)


@dataclass(frozen=True)
class OverheadModel:
    """Memory besides weights and KV. ``profiled``: activation peak, CUDA graphs and memory
    outside torch as fitted terms (``terms``); ``compute_buffers``: llama.cpp's buffers for
    one micro-batch; ``prefill_peak``: a whole-prompt forward pass (transformers)."""

    kind: OverheadKind
    terms: Mapping[str, float] = field(default_factory=dict)
    non_torch_bytes: int = 0


@dataclass(frozen=True)
class ServingDefaults:
    """The engine's caps when the user sets none: running sequences (more on GPUs with at
    least ``large_gpu_bytes``) and tokens per forward step."""

    max_num_seqs: int
    max_num_seqs_large_gpu: int
    large_gpu_bytes: int
    max_batched_tokens: int

    def max_seqs(self, gpu_bytes: float) -> int:
        return (
            self.max_num_seqs_large_gpu if gpu_bytes >= self.large_gpu_bytes else self.max_num_seqs
        )


@dataclass(frozen=True)
class WeightSupport:
    """How the engine runs one row of the weight-format table: the flag that quantizes a
    16-bit checkpoint while loading (None: it must be pre-quantized) and what it does on a
    GPU without the row's native math (None: refused)."""

    online: str | None = None
    fallback: str | None = None


@dataclass(frozen=True)
class ExportRules:
    """What the exporter may write for this engine."""

    display: str
    targets: tuple[str, ...]
    setup: str
    kv_cache_dtypes: Mapping[str, str]  # deepfit KV dtype (or "model") -> engine spelling
    weights: Mapping[str, WeightSupport]  # support-table row -> how this engine runs it
    vendors: tuple[str, ...] = ()  # empty: any vendor
    kv_needs: Mapping[str, str] = field(default_factory=dict)  # KV dtype -> native math needed
    dp_attention_for_mla: bool = False
    runs_bf16_without_hardware: bool = False
    weights_hint: str | None = None


@dataclass(frozen=True)
class Engine:
    """One engine (or engine version). Memory fields are per GPU."""

    name: str
    label: str
    family: str
    order: int
    aliases: tuple[str, ...]
    budget: Budget
    mla_latent: bool
    block_tokens: int
    max_batched_tokens: int  # tokens the memory model sizes workspace for
    cudagraph_in_budget: bool
    tensor_parallel: bool  # False: the engine splits a model across GPUs by layers only
    layer_offload: bool  # True: layers may stay in host RAM (llama.cpp --n-gpu-layers)
    smaller_formats: tuple[str, ...]  # what to suggest, in order, when a deployment is too big
    overheads: OverheadModel
    serving: ServingDefaults
    efficiency_terms: Mapping[str, float]  # roofline factors: fitted, else the defaults
    efficiency_fitted: bool
    memory_fraction_default: float | None = None
    memory_fraction_by_tp: tuple[tuple[int, float], ...] = ()
    groundtruth_prefix: str | None = None
    groundtruth_runtime: str | None = None
    export: ExportRules | None = None
    folder: str = ""  # where engine.json was read from (for errors and the exporter hook)
    module: str = ""  # importable module of the exporter hook ("" for a folder engine)

    @property
    def uses_budget(self) -> bool:
        """True when the engine preallocates a KV pool from a memory budget."""
        return self.budget != "exact"

    def memory_fraction(self, tp: int) -> float | None:
        """The engine's default budget knob (vLLM gpu_memory_utilization, SGLang
        mem_fraction_static, TensorRT-LLM free_gpu_memory_fraction); None for engines that
        allocate exactly what the workload needs."""
        for min_tp, fraction in self.memory_fraction_by_tp:
            if tp >= min_tp:
                return fraction
        return self.memory_fraction_default

    def required_memory_fraction(self, tp: int) -> float:
        """:meth:`memory_fraction` for a budget engine; a catalogue error if it has none."""
        value = self.memory_fraction(tp)
        if value is None:
            raise CatalogError(
                f"engine '{self.name}' budgets memory ({self.budget}) but its engine.json "
                f"gives no memory fraction for tp={tp}",
                f"add memory_fraction_default to {self.folder or self.name}/engine.json",
            )
        return value
