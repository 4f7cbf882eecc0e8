"""Activations, workspace, CUDA graphs and non-torch memory per engine, per GPU.

Which model an engine uses is data (``overheads.kind`` in its ``engines/*/engine.json``).
``profiled``: terms fitted on published vLLM 0.19 startup logs (``tools/calibrate_memory.py``):
the profiled activation peak is a constant part plus sampler/logits buffers that grow with
the vocabulary (only on the last pipeline stage); CUDA graphs grow with the layers a GPU
runs; memory outside torch jumps when tensor parallelism adds NCCL and custom all-reduce
buffers. SGLang and TensorRT-LLM log too little in the ground truth to fit their own terms:
they borrow vLLM's (``terms_from``), and say so. llama.cpp's compute buffer
(``compute_buffers``) and transformers' prefill peak (``prefill_peak``) are derived from
what they compute.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engines import Engine as EngineProfile
from ..models.architecture import Architecture
from .formats import WeightFormat
from .layout import Layout

#: Bytes per logit: engines sample from fp32 logits.
LOGIT_BYTES = 4


@dataclass(frozen=True)
class Overheads:
    activations: int
    non_torch: int
    cudagraph: int


def _profiled(
    profile: EngineProfile, arch: Architecture, layout: Layout, layers: range, last: bool
) -> Overheads:
    terms = profile.overheads.terms
    act = terms["act_base_bytes"]
    if last:
        act += terms["act_per_vocab_bytes"] * arch.vocab_size
    if layout.tp > 1:
        non_torch = terms["non_torch_tp_bytes"]
    elif layout.pp > 1:
        non_torch = terms["non_torch_pp_bytes"]
    else:
        non_torch = terms["non_torch_single_bytes"]
    graph = terms["cudagraph_base_bytes"] + terms["cudagraph_per_layer_bytes"] * len(layers)
    return Overheads(int(act), int(non_torch), int(graph))


def _llamacpp(
    arch: Architecture, profile: EngineProfile, layout: Layout, last: bool, context: int
) -> Overheads:
    """Compute buffers for one micro-batch of ``n_ubatch`` tokens: logits in fp32 on the
    last stage, and without flash attention the K*Q score matrix (n_ubatch x context x
    heads x 4 bytes): with it, DeepSeek-R1 at 32k context gives 8,444 MiB against the
    8,470 MiB ik_llama.cpp logged (memory.csv IKL-259)."""
    ubatch = profile.max_batched_tokens
    heads = arch.layers[0].attention.num_heads // layout.tp
    act = ubatch * context * heads * 4
    if last:
        act += ubatch * arch.vocab_size * LOGIT_BYTES
    return Overheads(act, profile.overheads.non_torch_bytes, 0)


def _transformers(
    arch: Architecture,
    profile: EngineProfile,
    fmt: WeightFormat,
    layout: Layout,
    last: bool,
    context: int,
    batch: int,
) -> Overheads:
    """Prefill of the whole prompt at once with SDPA attention: the residual stream, the
    attention projections and the MLP's widest intermediate live together for one layer
    at a time; logits are kept for the last position only (``logits_to_keep=1``)."""
    h = arch.hidden_size
    mlp_width = max(
        (la.mlp.intermediate_size if la.mlp else la.moe.expert.intermediate_size if la.moe else 0)
        for la in arch.layers
    )
    elem = 4 if fmt.compute_dtype == "fp32" else 2
    per_token = (4 * h + 3 * mlp_width // layout.tp) * elem
    act = batch * context * per_token
    if last:
        act += batch * arch.vocab_size * LOGIT_BYTES
    return Overheads(int(act), profile.overheads.non_torch_bytes, 0)


def overheads(
    profile: EngineProfile,
    arch: Architecture,
    fmt: WeightFormat,
    layout: Layout,
    layers: range,
    last: bool,
    context: int,
    batch: int,
) -> Overheads:
    """Memory besides weights and KV on one GPU of a stage, for ``profile``'s engine."""
    kind = profile.overheads.kind
    if kind == "compute_buffers":
        return _llamacpp(arch, profile, layout, last, context)
    if kind == "prefill_peak":
        return _transformers(arch, profile, fmt, layout, last, context, batch)
    return _profiled(profile, arch, layout, layers, last)
