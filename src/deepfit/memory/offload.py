"""CPU+GPU inference with llama.cpp: how many layers fit on the GPU (``-ngl``) and what
stays in host RAM; for MoE models, routed experts kept in host RAM (``--cpu-moe``).

llama.cpp keeps the token embedding in host memory, puts the last ``n_gpu_layers`` layers
on the GPU (the output layer too when ``-ngl`` exceeds the layer count), allocates each
offloaded layer's KV cache with it, and reserves a compute buffer on the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engines import load_engine
from ..hardware import Gpu
from ..models.loader import Model
from ..models.tensors import Role, tensors
from .device import visible_memory_bytes
from .formats import tensor_bytes
from .kv import KvSpec, bytes_for_sequence, for_engine, load_kv_dtype
from .layout import Layout
from .overheads import overheads
from .result import MemoryEstimate


@dataclass(frozen=True)
class OffloadPlan:
    """Bytes in GPU memory and in host RAM for one llama.cpp setting."""

    n_gpu_layers: int  # llama.cpp's -ngl (num_layers + 1 = everything incl. the output layer)
    num_layers: int
    experts_on_host: bool
    gpu_bytes: int
    host_bytes: int
    gpu_memory_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_gpu_layers": self.n_gpu_layers,
            "num_layers": self.num_layers,
            "experts_on_host": self.experts_on_host,
            "gpu_bytes": self.gpu_bytes,
            "host_bytes": self.host_bytes,
            "gpu_memory_bytes": self.gpu_memory_bytes,
        }


def llamacpp_offload(
    model: Model,
    gpu: Gpu,
    *,
    weights: str = "gguf-q4_k_m",
    context: int = 4096,
    batch: int = 1,
    kv_dtype: str = "fp16",
    experts_on_host: bool = False,
) -> OffloadPlan:
    """The most layers that fit on ``gpu``; the rest (and the embedding) in host RAM."""
    from .api import resolve_format

    arch = model.arch
    fmt = resolve_format(model, weights)
    profile = load_engine("llamacpp")
    kv = for_engine(
        KvSpec(dtype=load_kv_dtype(kv_dtype, "fp16"), mla_latent=profile.mla_latent), profile.name
    )
    gpu_total = visible_memory_bytes(gpu)
    layer_gpu = [0.0] * arch.num_layers
    layer_host = [0.0] * arch.num_layers
    head = host_fixed = 0.0
    for t in tensors(arch):
        size = tensor_bytes(t, fmt, arch.num_layers, arch=arch)
        if t.layer is None:
            if t.role is Role.EMBED:
                host_fixed += size
                head += size if arch.tie_word_embeddings else 0
            else:
                head += size
        elif experts_on_host and t.experts > 1:
            layer_host[t.layer] += size
        else:
            layer_gpu[t.layer] += size
    for i in range(arch.num_layers):
        layer_gpu[i] += batch * bytes_for_sequence(
            arch, kv, context, range(i, i + 1), profile.block_tokens
        )
    fixed = overheads(profile, arch, fmt, Layout(), range(arch.num_layers), True, context, batch)
    room = gpu_total - fixed.activations - profile.overheads.non_torch_bytes
    used, n = 0.0, 0
    for i in reversed(range(arch.num_layers)):
        if used + layer_gpu[i] > room:
            break
        used += layer_gpu[i]
        n += 1
    if n == arch.num_layers and used + head <= room:
        used += head
        n += 1
    on_gpu_layers = set(range(arch.num_layers - min(n, arch.num_layers), arch.num_layers))
    host = host_fixed + sum(layer_host) + (head if n <= arch.num_layers else 0)
    host += sum(layer_gpu[i] for i in range(arch.num_layers) if i not in on_gpu_layers)
    gpu_bytes = used + fixed.activations + profile.overheads.non_torch_bytes if n else 0
    return OffloadPlan(n, arch.num_layers, experts_on_host, int(gpu_bytes), int(host), gpu_total)


def offload_splits(model: Model, gpu: Gpu, est: MemoryEstimate) -> list[OffloadPlan]:
    """llama.cpp's CPU+GPU splits for the deployment ``est`` describes: the most layers on the
    GPU with the rest in host RAM, and for a MoE model also with the experts kept in host RAM."""
    return [
        llamacpp_offload(
            model,
            gpu,
            weights=est.weights_format,
            context=est.context_tokens,
            batch=est.batch,
            kv_dtype=est.kv_dtype,
            experts_on_host=moe,
        )
        for moe in ([False, True] if model.arch.is_moe else [False])
    ]
