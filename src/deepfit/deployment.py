"""The typed inputs of an inference deployment, and what is derived from them, in one place.

- :class:`Parallelism` (tp, pp, ep, dp, data-parallel attention; the memory layout type)
- :class:`Numerics`: the weight format and the KV-cache dtype
- :class:`EngineRef`: the engine and the user's memory-budget knob, if any
- :class:`Workload`: what must fit (``batch`` sequences of ``context_tokens``)
- :class:`Deployment`: the three together, with :attr:`Deployment.kv_spec` and
  :attr:`Deployment.memory_fraction`, the two values memory, performance, planning and
  export used to each derive on their own (with different data-parallel-attention rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engines import Engine, load_engine
from .errors import BadInputError
from .memory.formats import WeightFormat
from .memory.kv import KvDtype, KvSpec, for_engine, load_kv_dtype
from .memory.layout import Layout
from .memory.ledger import Extras

Parallelism = Layout
"""tp x pp x dp GPUs, ep expert ranks, and data-parallel attention (see memory/layout.py)."""

MIN_MEMORY_FRACTION = 0.05


def model_kv_dtype(fmt: WeightFormat) -> str:
    """The KV dtype ``auto`` means: the 16-bit type the weights compute in (fp32 stays fp32,
    an fp16 checkpoint keeps fp16, everything else bf16)."""
    if fmt.compute_dtype == "fp32":
        return "fp32"
    return "fp16" if fmt.name == "fp16" else "bf16"


@dataclass(frozen=True)
class Numerics:
    """Weight format and KV-cache dtype."""

    weights: WeightFormat
    kv: KvDtype

    @classmethod
    def of(cls, weights: WeightFormat, kv_dtype: str) -> Numerics:
        """``kv_dtype`` may be ``auto`` (see :func:`model_kv_dtype`) or any KV dtype name."""
        return cls(weights, load_kv_dtype(kv_dtype, model_kv_dtype(weights)))


@dataclass(frozen=True)
class EngineRef:
    """An engine and, when the user set it, its memory-budget knob (vLLM
    ``gpu_memory_utilization``, SGLang ``mem_fraction_static``...)."""

    engine: Engine
    memory_fraction: float | None = None

    @classmethod
    def named(cls, name: str, memory_fraction: float | None = None) -> EngineRef:
        engine = load_engine(name)
        if memory_fraction is not None and not MIN_MEMORY_FRACTION <= memory_fraction <= 1.0:
            raise BadInputError(
                f"memory fraction {memory_fraction} is outside (0.05, 1]", "use a value like 0.9"
            )
        return cls(engine, memory_fraction)

    def fraction(self, tp: int) -> float | None:
        """The budget knob at tensor-parallel size ``tp``: the user's, else the engine's
        default (a catalogue error when a budget engine has none); None for engines that
        allocate exactly what the workload needs."""
        if self.memory_fraction is not None:
            return self.memory_fraction
        if not self.engine.uses_budget:
            return None
        return self.engine.required_memory_fraction(tp)


@dataclass(frozen=True)
class Workload:
    """What must fit: ``batch`` sequences of ``context_tokens`` tokens (prompt + output)."""

    context_tokens: int
    batch: int = 1


@dataclass(frozen=True)
class Deployment:
    """Parallel layout, numerics and engine of one deployment."""

    parallelism: Parallelism
    numerics: Numerics
    engine: EngineRef
    #: draft model, MTP, LoRA slots served beside the model (memory/ledger.py)
    extras: Extras = field(default_factory=Extras)

    @property
    def kv_spec(self) -> KvSpec:
        """KV bytes per token per GPU: the engine decides whether MLA caches its latent;
        with data-parallel attention each rank keeps whole heads for its own sequences."""
        return kv_spec(self.numerics.kv, self.engine.engine, self.parallelism)

    @property
    def memory_fraction(self) -> float | None:
        return self.engine.fraction(self.parallelism.tp)


def kv_spec(kv: KvDtype, engine: Engine, layout: Parallelism) -> KvSpec:
    """The one rule for the KV spec of ``engine`` on ``layout`` (see :attr:`Deployment.kv_spec`)."""
    spec = KvSpec(kv, mla_latent=engine.mla_latent, tp=1 if layout.attention_dp else layout.tp)
    return for_engine(spec, engine.name)  # the engine's rules for hybrid and window caches
