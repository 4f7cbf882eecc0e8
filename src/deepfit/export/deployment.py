"""From a request (flags or a plan) to a :class:`Deployment` that deepfit's memory model says
fits: every number an exporter writes comes from here, checked before anything is printed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .._bisect import largest_satisfying
from ..deployment import EngineRef
from ..engines import engines, load_engine, prepare_hook
from ..errors import BadInputError, NotSupportedError, UnknownEngineError
from ..hardware import Gpu
from ..memory import MemoryEstimate, WeightFormat, estimate_memory, resolve_format
from ..memory.ledger import Extras
from ..models import Model
from .support import check_weights

TARGETS = ("shell", "skypilot", "kubernetes")
#: ``--engine`` values that name a target; the engine is then the first that offers it.
_TARGET_NAMES = {
    "skypilot": "skypilot",
    "sky": "skypilot",
    "kubernetes": "kubernetes",
    "k8s": "kubernetes",
}
#: the exporters that write the flags reserving a draft model and LoRA slots
LEDGER_ENGINES = ("vllm", "sglang")
DEFAULT_MAX_SEQS = 256
"""Concurrency when none is asked for: vLLM's own default max_num_seqs, or less if fewer fit."""


@dataclass(frozen=True)
class ExportRequest:
    """What to export. ``None`` means "choose": context = the model's maximum (shortened
    to what fits when not asked for), concurrency = what fits, up to :data:`DEFAULT_MAX_SEQS`;
    ``dp_attention`` on for SGLang with MLA models; ``gpus_per_node`` = min(gpus, 8)."""

    engine: str = "vllm"
    target: str = "shell"
    gpus: int = 1
    tp: int | None = None
    pp: int = 1
    ep: int = 1
    weights: str = "auto"
    kv_dtype: str = "auto"
    context: int | None = None
    concurrency: int | None = None
    memory_fraction: float | None = None
    dp_attention: bool | None = None
    spec_tokens: int = 0
    gpus_per_node: int | None = None
    model_path: str | None = None
    port: int = 8000
    #: draft model, MTP, LoRA slots: counted in memory and reserved by the engine's flags
    extras: Extras | None = None


@dataclass(frozen=True)
class Deployment:
    """A checked deployment. ``concurrency`` is the total over data-parallel replicas;
    ``memory_fraction`` the engine's budget knob as it will be passed."""

    model: Model
    gpu: Gpu
    engine: str
    target: str
    weights: WeightFormat
    context: int
    concurrency: int
    memory_fraction: float | None  # None: the engine has no budget knob (llama.cpp)
    estimate: MemoryEstimate
    nodes: int
    gpus_per_node: int
    model_path: str
    model_path_is_placeholder: bool
    spec_tokens: int
    port: int
    notes: tuple[str, ...] = field(default=())
    extras: Extras = field(default_factory=Extras)

    @property
    def tp(self) -> int:
        return self.estimate.tp

    @property
    def pp(self) -> int:
        return self.estimate.pp

    @property
    def ep(self) -> int:
        return self.estimate.ep

    @property
    def dp(self) -> int:
        return self.estimate.dp

    @property
    def gpus(self) -> int:
        return self.estimate.gpus

    @property
    def per_replica_concurrency(self) -> int:
        return -(-self.concurrency // self.dp)

    @property
    def is_mla(self) -> bool:
        return any(layer.attention.mla is not None for layer in self.model.arch.layers)


def exportable() -> tuple[str, ...]:
    """Engines with an exporter, in display order."""
    return tuple(e.name for e in engines() if e.export is not None)


def canonical_engine(name: str) -> tuple[str, str | None]:
    """(engine, target implied by the name or None) for ``--engine`` values."""
    key = name.strip().lower()
    target = _TARGET_NAMES.get(key)
    if target is not None:
        key = next(e.name for e in engines() if e.export and target in e.export.targets)
    found = next((e for e in engines() if key == e.name or key in e.aliases), None)
    if found is None or found.export is None:
        raise UnknownEngineError(
            f"deepfit cannot export for engine '{name}'",
            f"use one of: {', '.join(exportable())}, ollama, skypilot, kubernetes",
        )
    return found.name, target


def _estimate(model: Model, gpu: Gpu, req: ExportRequest, ctx: int, batch: int) -> MemoryEstimate:
    return estimate_memory(
        model,
        gpu,
        gpus=req.gpus,
        tp=req.tp,
        pp=req.pp,
        ep=req.ep,
        weights=req.weights,
        kv_dtype=req.kv_dtype,
        context=ctx,
        batch=batch,
        engine=req.engine,
        memory_fraction=req.memory_fraction,
        dp_attention=bool(req.dp_attention),
        extras=req.extras,
    )


def longest_context(model: Model, gpu: Gpu, req: ExportRequest, concurrency: int) -> int:
    """The longest context at which ``concurrency`` sequences fit (0: none does)."""
    cap = model.arch.max_position_embeddings or (1 << 20)

    def ok(ctx: int) -> bool:
        est = _estimate(model, gpu, req, ctx, concurrency)
        return est.fits and est.max_concurrency >= concurrency

    return largest_satisfying(ok, cap)


def _too_much(model: Model, gpu: Gpu, req: ExportRequest, est: MemoryEstimate) -> BadInputError:
    ctx, conc = est.context_tokens, est.batch
    beside = max(s.extras_kv_beside for s in est.stages)
    if beside and est.shortfall_bytes:
        return BadInputError(
            f"the draft's KV pool ({beside / 2**30:,.1f} GiB per GPU, as many tokens as the "
            f"main pool) does not fit beside {req.engine}'s static budget on {gpu.name}",
            "lower --gpu-memory-utilization (e.g. 0.7) so both pools fit",
        )
    options = []
    if est.max_concurrency >= 1:
        options.append(f"--concurrency {est.max_concurrency} at --context {ctx}")
    longest = longest_context(model, gpu, req, conc)
    if longest >= 1:
        options.append(f"--context {longest} at --concurrency {conc}")
    if not options:
        return BadInputError(
            f"{model.id} does not fit on {est.gpus} x {gpu.name} with {req.engine} "
            f"({'; '.join(est.reasons) or 'no room for the KV cache'})",
            "use more GPUs, a smaller --weights format or a GPU with more memory",
        )
    return BadInputError(
        f"{conc} x {ctx:,} tokens do not fit the KV cache {req.engine} will have on "
        f"{est.gpus} x {gpu.name} ({est.kv_capacity_tokens:,} tokens per replica)",
        "the nearest settings that fit: " + " or ".join(options),
    )


def _choose_workload(
    model: Model, gpu: Gpu, req: ExportRequest, notes: list[str]
) -> tuple[int, int]:
    cap = model.arch.max_position_embeddings
    ctx = req.context if req.context is not None else (cap or 4096)
    if cap is not None and ctx > cap:
        raise BadInputError(
            f"context {ctx:,} is beyond {model.id}'s {cap:,} positions",
            f"use --context {cap} or less (engines refuse a longer max model length)",
        )
    conc = req.concurrency or 1
    est = _estimate(model, gpu, req, ctx, conc)
    if req.context is None and not (est.fits and est.max_concurrency >= conc):
        longest = longest_context(model, gpu, req, conc)
        if longest >= 1:
            notes.append(f"context shortened to {longest:,} tokens, the longest that fits")
            ctx = longest
            est = _estimate(model, gpu, req, ctx, conc)
    if not (est.fits and est.max_concurrency >= conc):
        raise _too_much(model, gpu, req, est)
    if req.concurrency is None:
        conc = max(1, min(est.max_concurrency, DEFAULT_MAX_SEQS))
    return ctx, conc


def default_dp_attention(model: Model, engine: str, gpus: int, tp: int | None) -> bool:
    """Data-parallel attention, which deepfit turns on for MLA models on more than one GPU
    with an engine whose export rules ask for it (SGLang); the memory panel and the launch
    command must agree on it."""
    rules = load_engine(engine).export
    return (
        rules is not None
        and rules.dp_attention_for_mla
        and (tp or gpus) > 1
        and any(la.attention.mla for la in model.arch.layers)
    )


def resolve(model: Model, gpu: Gpu, request: ExportRequest) -> Deployment:
    """Check ``request`` against the support table and the memory model; raise
    :class:`BadInputError` (with the nearest valid setting) if anything does not hold."""
    engine, implied = canonical_engine(request.engine)
    target = implied or request.target.strip().lower()
    if target not in TARGETS:
        raise BadInputError(f"unknown target '{request.target}'", f"use {', '.join(TARGETS)}")
    spec = load_engine(engine)
    rules = spec.export
    assert rules is not None  # canonical_engine admits exportable engines only
    if target not in rules.targets:
        offer = [e for e in engines() if e.export and target in e.export.targets]
        raise NotSupportedError(
            f"the {target.capitalize()} export is for "
            f"{', '.join(e.export.display for e in offer if e.export)}",
            f"use --engine {offer[0].name}" if offer else "use --target shell",
        )
    notes: list[str] = []
    req = _with_extras(model, replace(request, engine=engine, target=target))
    prepare = prepare_hook(spec)
    if prepare is not None:
        req = prepare(model, req, notes)
    if req.dp_attention is None:
        req = replace(req, dp_attention=default_dp_attention(model, engine, req.gpus, req.tp))
    fmt = resolve_format(model, req.weights)
    notes.extend(check_weights(engine, fmt, gpu))
    ctx, conc = _choose_workload(model, gpu, req, notes)
    est = _estimate(model, gpu, req, ctx, conc)
    per_node = req.gpus_per_node or min(est.gpus, 8)
    if est.gpus % per_node:
        raise BadInputError(
            f"{est.gpus} GPUs do not fill whole nodes of {per_node}",
            f"use --gpus-per-node that divides {est.gpus}",
        )
    if est.tp > per_node:
        notes.append(f"tp={est.tp} spans nodes: tensor parallelism over the network is slow")
    path, placeholder = model_path(model, fmt, engine, req.model_path)
    if placeholder:
        notes.append(
            f"{path} is a placeholder: deepfit does not know where the {fmt.name} checkpoint of "
            f"{model.id} is published; fill in a real path or Hub id (or pass --model-path)"
        )
    fraction = EngineRef.named(engine, req.memory_fraction).fraction(est.tp)
    if fraction is not None and est.memory_fraction is not None:
        fraction = est.memory_fraction  # less what the engine sets aside for a drafter
    return Deployment(
        model,
        gpu,
        engine,
        target,
        fmt,
        ctx,
        conc,
        fraction,
        est,
        est.gpus // per_node,
        per_node,
        path,
        placeholder,
        req.spec_tokens,
        req.port,
        tuple(dict.fromkeys([*notes, *_memory_notes(est)])),
        req.extras or Extras(),
    )


def _with_extras(model: Model, req: ExportRequest) -> ExportRequest:
    """Speculative tokens on a checkpoint with MTP layers load them (the exporters draft with
    MTP there), so memory counts them; a drafter asked without a token count gets its own."""
    extras = req.extras or Extras()
    if (extras.draft is not None or extras.max_loras) and req.engine not in LEDGER_ENGINES:
        raise NotSupportedError(
            f"the {req.engine} export reserves no draft-model or LoRA memory",
            f"use --engine {' or --engine '.join(LEDGER_ENGINES)}",
        )
    if req.spec_tokens > 0 and model.arch.mtp_layers and extras.draft is None:
        extras = replace(extras, mtp=True, spec_tokens=req.spec_tokens)
    if (extras.mtp or extras.draft is not None) and req.spec_tokens <= 0:
        req = replace(req, spec_tokens=max(extras.spec_tokens, 1))
    return replace(req, extras=extras if extras.any else None)


def model_path(model: Model, fmt: WeightFormat, engine: str, given: str | None) -> tuple[str, bool]:
    """The checkpoint to load and whether it is a placeholder the user must fill in."""
    if given:
        return given, False
    from .support import format_support

    native = resolve_format(model, "auto")
    sixteen = {"fp32", "bf16", "fp16"}
    base = model.id.rsplit("/", 1)[-1]
    if fmt.gguf_ftype is not None:
        return f"/models/{base}-{fmt.gguf_ftype}.gguf", True
    same_payload = (  # e.g. fp8 asked of a checkpoint stored as block-scaled fp8
        native.is_quantized
        and fmt.compute_dtype == native.compute_dtype
        and fmt.bits == native.bits
    )
    if (
        fmt.name == native.name
        or same_payload
        or (fmt.name in sixteen and native.name in sixteen)
        or (native.name in sixteen and engine in format_support(fmt).online)
    ):
        return model.id, False
    return f"/models/{base}-{fmt.name}", True


def _memory_notes(est: MemoryEstimate) -> list[str]:
    """The memory model's notes that matter for a launch (not the single-sequence limit,
    which the export replaces with the context and concurrency it checked)."""
    return [n for n in est.notes if not n.startswith("the KV cache would hold")]
