"""What a deployment serves beside the main model, each as its own line of the memory ledger:
a draft model and its KV cache, DeepSeek's MTP layers and their KV cache, multi-LoRA slots.

How the engines reserve them (read from their code):

- Draft model (vLLM ``--speculative-config '{"model": ...}'``, SGLang
  ``--speculative-draft-model-path``): loaded beside the target with the target's tensor
  parallelism; its attention layers get KV in the same pool (vLLM allocates one block pool over
  every attention layer of both models; SGLang gives the draft worker a pool of as many tokens
  as the target's, ``draft_runner_cache_size``), so each pooled token costs target + draft bytes.
- MTP (vLLM ``deepseek_mtp``, SGLang ``--speculative-algorithm EAGLE`` on the NextN layer): the
  checkpoint's MTP layers, sharded like the main layers, on the last pipeline stage, sharing
  the target's embedding and head; one more attention layer's KV per MTP layer, whatever the
  number of speculative tokens (the layer is reused for each step).
- LoRA slots (vLLM ``--max-loras``/``--max-lora-rank``, ``BaseLinearLayerWithLoRA.
  create_lora_weights``; SGLang ``--max-loras-per-batch``/``--max-lora-rank``,
  ``LoRAMemoryPool``): for every wrapped linear layer and every slot, A of ``rank x input``
  and B of ``output x rank`` in the model's 16-bit dtype, zero-padded to the maximum rank.
  A column-parallel layer keeps A whole and splits B's output; a row-parallel layer splits
  A's input and keeps B whole; a replicated one keeps both (``fully_sharded_loras`` off, the
  default). Merged layers (qkv, gate_up) hold one A and one B per slice, as the separate
  tensors here do. Routed experts (vLLM's ``FusedMoEWithLoRA``) hold one pair per local
  expert. The embedding and head are left out (vLLM no longer wraps them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from ..errors import BadInputError
from ..models.architecture import Architecture
from ..models.loader import Model
from ..models.tensors import ATTENTION_ROLES, FFN_ROLES, Role, Split, Tensor, tensors
from ..models.vision import VisionTower
from .formats import WeightFormat, tensor_bytes
from .kv import KvSpec, kv_groups
from .layout import Layout, make_layout, shard
from .overheads import Overheads
from .plan import stage_plan

#: the linear layers vLLM and SGLang wrap with LoRA
LORA_ROLES = ATTENTION_ROLES | FFN_ROLES | {Role.ROUTER}
MAX_LORA_RANK = 512  # vLLM accepts ranks up to 512 (LoRAConfig.max_lora_rank)


@dataclass(frozen=True)
class Extras:
    """What is served beside the main model. ``draft_format`` is the draft checkpoint's own
    format (resolved by the caller); ``spec_tokens`` the tokens drafted per step."""

    draft: Model | None = None
    draft_format: WeightFormat | None = None
    spec_tokens: int = 0
    mtp: bool = False
    max_loras: int = 0
    max_lora_rank: int = 0
    vision: bool = False

    @property
    def any(self) -> bool:
        return self.draft is not None or self.mtp or self.max_loras > 0 or self.vision

    def check(self, arch: Architecture) -> None:
        """Raise :class:`BadInputError` for a combination no engine accepts."""
        if self.draft is not None and self.mtp:
            raise BadInputError("--draft-model and --mtp both choose the drafter", "keep one")
        if self.mtp and not arch.mtp_layers:
            raise BadInputError(
                f"{arch.model_id} has no MTP layers (num_nextn_predict_layers)",
                "drop --mtp, or name a draft model with --draft-model",
            )
        if self.vision and arch.vision is None:
            raise BadInputError(
                f"{arch.model_id} has no vision encoder deepfit can size",
                "drop --vision (SigLIP towers such as Gemma 3's are sized)",
            )
        if (self.max_loras > 0) != (self.max_lora_rank > 0):
            raise BadInputError(
                "--max-loras and --max-lora-rank go together",
                "e.g. --max-loras 4 --max-lora-rank 16",
            )
        if not 0 <= self.max_lora_rank <= MAX_LORA_RANK:
            raise BadInputError(
                f"--max-lora-rank {self.max_lora_rank} is outside 1..{MAX_LORA_RANK}",
                "use a rank such as 8, 16, 32 or 64",
            )


@dataclass(frozen=True)
class LedgerLine:
    """One extra on one GPU: its weights (bytes) and the KV bytes per pooled token it adds."""

    name: str  # draft_model, mtp, lora_slots
    label: str
    weights_bytes: int
    #: (window or None for the whole context, bytes per token) of its attention layers
    kv_parts: tuple[tuple[int | None, float], ...]
    derivation: str
    #: activations that stay allocated beside the model's (the vision encoder's output cache)
    activations_bytes: int = 0
    #: a peak that overlaps the model's own (the vision encoder's profiling forward)
    peak_bytes: int = 0
    #: a speculative drafter (draft model or MTP): engines that load it as a worker of its
    #: own (SGLang) allocate it and its KV outside the main model's static budget
    drafter: bool = False

    @property
    def kv_bytes_per_token(self) -> float:
        return sum(rate for _, rate in self.kv_parts)

    def kv_for(self, tokens: int, block: int = 1) -> float:
        """KV bytes of one sequence of ``tokens`` (windows keep at most their window)."""
        total = 0.0
        for window, rate in self.kv_parts:
            kept = tokens if window is None else min(tokens, window)
            total += -(-kept // block) * block * rate
        return total

    def to_dict(self, kv_bytes: int) -> dict[str, Any]:
        """``kv_bytes``: what its attention layers hold on this GPU (in or beside the pool)."""
        return {
            "name": self.name,
            "label": self.label,
            "weights_bytes": self.weights_bytes,
            "kv_bytes_per_token": round(self.kv_bytes_per_token),
            "kv_pool_bytes": kv_bytes,
            "activations_bytes": self.activations_bytes,
            "peak_bytes": self.peak_bytes,
            "derivation": self.derivation,
        }


def ledger_lines(
    arch: Architecture,
    fmt: WeightFormat,
    kv: KvSpec,
    layout: Layout,
    extras: Extras,
    *,
    last: bool,
    layers: range,
    batched_tokens: int = 8192,
) -> tuple[LedgerLine, ...]:
    """The extras one GPU of the stage holding ``layers`` carries (draft and MTP on the last,
    the vision encoder on the first); ``batched_tokens`` is the engine's per-step budget."""
    out: list[LedgerLine] = []
    if extras.vision and arch.vision is not None and layers.start == 0:
        out.append(vision_line(arch.vision, fmt, layout, batched_tokens))
    if extras.draft is not None and last:
        out.append(_draft(extras.draft, extras.draft_format or fmt, kv, layout))
    if extras.mtp and last:
        out.append(_mtp(arch, fmt, kv, layout))
    if extras.max_loras > 0:
        out.append(_lora(arch, fmt, layout, layers, extras.max_loras, extras.max_lora_rank))
    return tuple(out)


def _draft(draft: Model, fmt: WeightFormat, kv: KvSpec, layout: Layout) -> LedgerLine:
    arch = draft.arch
    # the target's tensor parallelism; where the draft's heads do not split that way, the
    # whole draft on every GPU (vLLM draft_tensor_parallel_size=1)
    tp = layout.tp if arch.layers[0].attention.num_heads % layout.tp == 0 else 1
    own = make_layout(arch, tp, tp, 1, 1)
    weights = int(stage_plan(arch, fmt, own, 0, range(arch.num_layers)).weights_bytes)
    spec = replace(kv, tp=tp)  # the target's KV dtype and the engine's cache rules
    return LedgerLine(
        "draft_model",
        f"draft model {draft.id}",
        weights,
        kv_groups(arch, spec),
        f"{draft.params.total:,} parameters in {fmt.name} over tp={tp}; "
        f"{arch.num_layers} more attention layers in the KV pool",
        drafter=True,
    )


def _mtp(arch: Architecture, fmt: WeightFormat, kv: KvSpec, layout: Layout) -> LedgerLine:
    own = [t for t in tensors(arch, include_mtp=True) if t.mtp]
    weights = sum(tensor_bytes(t, fmt, arch.num_layers, arch=arch) / shard(t, layout) for t in own)
    parts = tuple(
        (p.window, p.bytes_per_token) for la in arch.mtp_layers for p in kv.parts(la.attention)
    )
    return LedgerLine(
        "mtp",
        f"MTP layers ({len(arch.mtp_layers)})",
        int(weights),
        parts,
        f"{len(arch.mtp_layers)} MTP layer(s) in {fmt.name}, sharded like the main layers, "
        "embedding and head shared with the target; one more attention layer in the KV pool",
        drafter=True,
    )


def lora_slot_elements(t: Tensor, layout: Layout, rank: int) -> float:
    """Elements of one LoRA slot's A and B for ``t`` on one GPU (see the module docstring)."""
    if t.experts > 1:
        pieces = shard(t, layout)
        if layout.ep > 1:  # whole experts on each rank
            return t.experts / pieces * rank * (t.rows + t.cols)
        return t.experts * rank * (_b_rows(t, pieces) + _a_cols(t, pieces))
    pieces = shard(t, layout)
    return rank * (_b_rows(t, pieces) + _a_cols(t, pieces))


def _b_rows(t: Tensor, pieces: int) -> float:
    return t.rows / pieces if t.split is Split.ROWS else t.rows


def _a_cols(t: Tensor, pieces: int) -> float:
    return t.cols / pieces if t.split is Split.COLS else t.cols


def _lora(
    arch: Architecture, fmt: WeightFormat, layout: Layout, layers: range, slots: int, rank: int
) -> LedgerLine:
    width = 4 if fmt.compute_dtype == "fp32" else 2  # LoRA dtype "auto": the model's dtype
    wrapped = [t for t in tensors(arch) if t.role in LORA_ROLES and t.layer in layers]
    per_slot = sum(lora_slot_elements(t, layout, rank) for t in wrapped) * width
    return LedgerLine(
        "lora_slots",
        f"LoRA slots ({slots} x rank {rank})",
        int(per_slot * slots),
        (),
        f"{slots} slot(s) x {int(per_slot):,} bytes: A (rank x in) and B (out x rank) of "
        f"{len(wrapped)} linear layers in {8 * width}-bit, split as the base layers",
    )


@cache
def _reserves() -> dict[str, Any]:
    text = resources.files("deepfit.memory").joinpath("data/speculative_reserve.json")
    engines: dict[str, Any] = json.loads(text.read_text())["engines"]
    return engines


def speculative_reserve(engine: str, extras: Extras) -> int:
    """Bytes ``engine`` sets aside for the drafter when its budget knob is left at default
    (``data/speculative_reserve.json``); 0 for engines that count the drafter in one pool."""
    row = _reserves().get(engine)
    if row is None:
        return 0
    if extras.draft is not None:
        return int(row["draft_model_bytes"])
    return int(row["mtp_bytes"]) if extras.mtp else 0


def with_extra_activations(ov: Overheads, lines: tuple[LedgerLine, ...]) -> Overheads:
    """The model's activations with the extras': a peak that overlaps the model's own
    counts where it is larger; what stays allocated adds."""
    peak = max([ov.activations, *(x.peak_bytes for x in lines)])
    kept = sum(x.activations_bytes for x in lines)
    return replace(ov, activations=peak + kept) if peak + kept != ov.activations else ov


def vision_line(v: VisionTower, fmt: WeightFormat, layout: Layout, budget: int) -> LedgerLine:
    """The vision encoder and projector in 16 bits (quantized checkpoints leave them so), the
    encoder's linear layers split by tp (vLLM's SigLIP uses its parallel linear layers).

    Activations, as vLLM profiles them (gpu_model_runner.profile_run): the encoder runs once on
    as many images as the per-step budget holds (``budget // tokens_per_image``), whose live
    set in an MLP is the residual, the normed input and fc1's output before and after the
    activation, ``patches x (2 hidden + 2 intermediate / tp)`` per image; its outputs stay in
    the encoder cache (``budget`` embeddings of the text width) through the text profiling.
    """
    width = 4 if fmt.compute_dtype == "fp32" else 2
    tp = 1 if layout.attention_dp else layout.tp
    linear = v.layers * (4 * v.hidden**2 + 2 * v.hidden * v.intermediate)
    weights = width * (linear / tp + (v.params - linear))
    images = max(1, budget // v.tokens_per_image)
    per_image = v.patches * (2 * v.hidden + 2 * v.intermediate / tp) * width
    cache = budget * v.text_hidden * width
    return LedgerLine(
        "vision",
        f"vision encoder ({v.kind}, {v.layers} layers)",
        int(weights),
        (),
        f"{v.params:,} parameters ({v.encoder_params:,} encoder, {v.projector_params:,} "
        f"projector) in {8 * width}-bit; profiled on {images} image(s) of {v.patches:,} patches, "
        f"encoder cache of {budget:,} embeddings",
        activations_bytes=int(cache),
        peak_bytes=int(images * per_image),
    )
