"""Which engine runs which weight format and KV dtype on which GPU: the support table, as data.

Each row names the engines that load a format, the compute format the GPU must run natively
(``Gpu.supports``), what an engine does instead on a GPU without it (a note: allowed; absent:
refused), the engine's flag for quantizing a 16-bit checkpoint while loading (absent: the
checkpoint must already be quantized), and where the facts come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import NotSupportedError
from ..hardware import Gpu
from ..memory import WeightFormat

GPU_ENGINES = ("vllm", "sglang", "trtllm")
_VLLM_QUANT = "vLLM docs, Features > Quantization > supported hardware table"
_SGL_QUANT = "SGLang docs, Advanced features > Quantization"
_TRT_QUANT = "TensorRT-LLM docs, Features > Quantization (ModelOpt checkpoints)"


@dataclass(frozen=True)
class FormatSupport:
    """One weight format across engines."""

    formats: tuple[str, ...]
    engines: tuple[str, ...]
    source: str
    needs: str | None = None  # compute format the GPU must run natively
    fallback: Mapping[str, str] = field(default_factory=dict)  # engine -> note
    online: Mapping[str, str] = field(default_factory=dict)  # engine -> --quantization value


_WEIGHTS: tuple[FormatSupport, ...] = (
    FormatSupport(("fp32", "bf16", "fp16"), GPU_ENGINES, "every engine loads HF safetensors"),
    FormatSupport(
        ("fp8",),
        GPU_ENGINES,
        f"{_VLLM_QUANT}; {_SGL_QUANT}; {_TRT_QUANT}",
        needs="fp8",
        fallback={
            "vllm": "no FP8 math on this GPU: vLLM runs FP8 weight-only through its Marlin "
            "kernel (W8A16, Ampere or newer); memory as planned, speed of 16-bit matmuls"
        },
        online={"vllm": "fp8", "sglang": "fp8"},
    ),
    FormatSupport(
        ("fp8-block",),
        GPU_ENGINES,
        f"{_VLLM_QUANT}; {_SGL_QUANT}; DeepSeek-V3 block-FP8 checkpoints",
        needs="fp8",
        fallback={
            "vllm": "no FP8 math on this GPU: vLLM runs block-FP8 weights through Marlin "
            "(weight-only, Ampere or newer)"
        },
    ),
    FormatSupport(
        ("fp8-fp4-experts",),
        ("vllm", "sglang"),
        "vLLM and SGLang DeepSeek-V4 support (vLLM blog 'DeepSeek V4 in vLLM', 2026-04-24): "
        "the released FP8 + FP4-expert checkpoints",
        needs="fp8",
    ),
    FormatSupport(("int8",), GPU_ENGINES, f"{_VLLM_QUANT} (W8A8 INT8, sm75+)", needs="int8"),
    FormatSupport(("int8-wo",), ("vllm", "sglang"), f"{_VLLM_QUANT} (compressed-tensors W8A16)"),
    FormatSupport(("gptq-int4", "gptq-int8"), ("vllm", "sglang"), f"{_VLLM_QUANT}; {_SGL_QUANT}"),
    FormatSupport(
        ("awq-int4",),
        ("vllm", "sglang", "trtllm"),
        f"{_VLLM_QUANT}; {_SGL_QUANT}; {_TRT_QUANT} (W4A16 AWQ)",
    ),
    FormatSupport(
        ("bnb-nf4", "bnb-int8"),
        ("vllm",),
        "vLLM docs, Quantization > BitsAndBytes (in-flight quantization)",
        online={"vllm": "bitsandbytes"},
    ),
    FormatSupport(
        ("nvfp4",),
        GPU_ENGINES,
        f"{_VLLM_QUANT}; {_TRT_QUANT}: NVFP4 tensor cores are Blackwell-only",
        needs="fp4",
    ),
    FormatSupport(("mxfp4",), GPU_ENGINES, "gpt-oss model cards: vLLM, SGLang, TensorRT-LLM"),
    FormatSupport(
        ("gguf-q4_0", "gguf-q8_0", "gguf-q2_k", "gguf-q4_k_s", "gguf-q4_k_m", "gguf-q5_k_m"),
        ("llamacpp",),
        "GGUF is llama.cpp's format; the other engines load safetensors",
    ),
    FormatSupport(("gguf-q6_k", "gguf-f16"), ("llamacpp",), "llama.cpp"),
)

#: KV dtype -> the engine's own spelling; a missing pair is refused.
KV_FLAGS: Mapping[str, Mapping[str, str]] = {
    "vllm": {"model": "auto", "fp8": "fp8"},
    "sglang": {"model": "auto", "fp8": "fp8_e4m3"},
    "trtllm": {"model": "auto", "fp8": "fp8"},
    "llamacpp": {"fp32": "f32", "fp16": "f16", "bf16": "bf16", "q8_0": "q8_0", "q4_0": "q4_0"},
}
KV_SOURCE = (
    "vLLM --kv-cache-dtype {auto,fp8,...}; SGLang --kv-cache-dtype {auto,fp8_e4m3,fp8_e5m2}; "
    "TensorRT-LLM KvCacheConfig.dtype; llama.cpp --cache-type-k/-v {f32,f16,bf16,q8_0,q4_0,...}"
)


def format_support(fmt: WeightFormat) -> FormatSupport:
    """The table row of ``fmt`` (variants like ``gptq-int4-g32`` use their base row)."""
    name = "awq-int4" if fmt.name == "w4a16" else fmt.name  # compressed-tensors W4A16
    for row in _WEIGHTS:
        if any(name == f or name.startswith(f + "-") for f in row.formats):
            return row
    raise NotSupportedError(
        f"deepfit cannot export weights in {fmt.name}", "pick another --weights"
    )


def check_weights(engine: str, fmt: WeightFormat, gpu: Gpu) -> tuple[str, ...]:
    """Notes for ``fmt`` on ``gpu`` with ``engine``; raises NotSupportedError if it cannot run."""
    row = format_support(fmt)
    if engine not in row.engines:
        hint = (
            "use --weights gguf-q4_k_m (or another gguf-* format) with llama.cpp"
            if engine == "llamacpp"
            else f"use --engine {row.engines[0]}"
            if len(row.engines) == 1
            else f"use one of --engine {', '.join(row.engines)}"
        )
        raise NotSupportedError(f"{engine} does not load {fmt.name} weights ({row.source})", hint)
    notes: list[str] = []
    if row.needs is not None and not gpu.supports(row.needs):
        if engine not in row.fallback or not gpu.supports("bf16"):
            raise NotSupportedError(
                f"{gpu.name} has no {row.needs} support, which {fmt.name} needs with {engine}",
                "use --weights bf16 or awq-int4, or a newer GPU"
                if row.needs != "fp4"
                else "nvfp4 needs a Blackwell GPU (B200); use --weights fp8 on Hopper",
            )
        notes.append(row.fallback[engine])
    if fmt.compute_dtype == "bf16" and not gpu.supports("bf16") and engine != "llamacpp":
        notes.append(f"{gpu.name} has no bf16: the engine is told to run in float16")
    if gpu.vendor != "NVIDIA" and engine == "trtllm":
        raise NotSupportedError("TensorRT-LLM runs on NVIDIA GPUs only", "use --engine vllm")
    return tuple(notes)


def kv_flag(engine: str, kv_dtype: str, model_kv: str, gpu: Gpu) -> str:
    """The engine's spelling of ``kv_dtype``; ``model_kv`` is the dtype ``auto`` gives."""
    table = KV_FLAGS[engine]
    key = "model" if kv_dtype == model_kv and "model" in table else kv_dtype
    if key not in table:
        known = [k for k in table if k != "model"]
        raise NotSupportedError(
            f"{engine} has no {kv_dtype} KV cache",
            f"use --kv-dtype auto or {' or '.join(known)} ({KV_SOURCE})",
        )
    if kv_dtype == "fp8" and engine == "trtllm" and not gpu.supports("fp8"):
        raise NotSupportedError(
            f"TensorRT-LLM's FP8 KV cache needs FP8 hardware, which {gpu.name} lacks",
            "use --kv-dtype auto",
        )
    return table[key]
