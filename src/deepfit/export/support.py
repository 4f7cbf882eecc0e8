"""Which engine runs which weight format and KV dtype on which GPU: the support table.

Each row names a family of weight formats, the compute format the GPU must run natively
(``Gpu.supports``) and where the facts come from. Each engine's ``engine.json`` says which
rows it loads, what it does instead on a GPU without the native math (a note: allowed;
absent: refused), its flag for quantizing a 16-bit checkpoint while loading (absent: the
checkpoint must already be quantized), and its KV-cache dtype spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engines import Engine, WeightSupport, engines, load_engine
from ..errors import NotSupportedError
from ..hardware import Gpu
from ..memory import WeightFormat

_VLLM_QUANT = "vLLM docs, Features > Quantization > supported hardware table"
_SGL_QUANT = "SGLang docs, Advanced features > Quantization"
_TRT_QUANT = "TensorRT-LLM docs, Features > Quantization (ModelOpt checkpoints)"


@dataclass(frozen=True)
class FormatSupport:
    """One row of weight formats. Which engines load it, with what flag and what fallback,
    is each engine's own data (``export.weights`` in ``engines/*/engine.json``, keyed by
    ``key``)."""

    key: str
    formats: tuple[str, ...]
    source: str
    needs: str | None = None  # compute format the GPU must run natively

    @property
    def engines(self) -> tuple[str, ...]:
        """Engines that load this row, in display order."""
        return tuple(e.name for e in engines() if e.export and self.key in e.export.weights)

    @property
    def online(self) -> dict[str, str]:
        """engine -> flag value that quantizes a 16-bit checkpoint while loading."""
        return {
            e.name: how.online
            for e in engines()
            if e.export and (how := e.export.weights.get(self.key)) and how.online
        }


_WEIGHTS: tuple[FormatSupport, ...] = (
    FormatSupport("16bit", ("fp32", "bf16", "fp16"), "every engine loads HF safetensors"),
    FormatSupport("fp8", ("fp8",), f"{_VLLM_QUANT}; {_SGL_QUANT}; {_TRT_QUANT}", needs="fp8"),
    FormatSupport(
        "fp8-block",
        ("fp8-block",),
        f"{_VLLM_QUANT}; {_SGL_QUANT}; DeepSeek-V3 block-FP8 checkpoints",
        needs="fp8",
    ),
    FormatSupport(
        "fp8-fp4-experts",
        ("fp8-fp4-experts",),
        "vLLM and SGLang DeepSeek-V4 support (vLLM blog 'DeepSeek V4 in vLLM', 2026-04-24): "
        "the released FP8 + FP4-expert checkpoints",
        needs="fp8",
    ),
    FormatSupport("int8", ("int8",), f"{_VLLM_QUANT} (W8A8 INT8, sm75+)", needs="int8"),
    FormatSupport("int8-wo", ("int8-wo",), f"{_VLLM_QUANT} (compressed-tensors W8A16)"),
    FormatSupport("gptq", ("gptq-int4", "gptq-int8"), f"{_VLLM_QUANT}; {_SGL_QUANT}"),
    FormatSupport("awq", ("awq-int4",), f"{_VLLM_QUANT}; {_SGL_QUANT}; {_TRT_QUANT} (W4A16 AWQ)"),
    FormatSupport(
        "bnb",
        ("bnb-nf4", "bnb-int8"),
        "vLLM docs, Quantization > BitsAndBytes (in-flight quantization)",
    ),
    FormatSupport(
        "nvfp4",
        ("nvfp4",),
        f"{_VLLM_QUANT}; {_TRT_QUANT}: NVFP4 tensor cores are Blackwell-only",
        needs="fp4",
    ),
    FormatSupport("mxfp4", ("mxfp4",), "gpt-oss model cards: vLLM, SGLang, TensorRT-LLM"),
    FormatSupport(
        "gguf",
        ("gguf-q4_0", "gguf-q8_0", "gguf-q2_k", "gguf-q4_k_s", "gguf-q4_k_m", "gguf-q5_k_m"),
        "GGUF is llama.cpp's format; the other engines load safetensors",
    ),
    FormatSupport("gguf-more", ("gguf-q6_k", "gguf-f16"), "llama.cpp"),
)

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


def _rules(engine: str) -> tuple[Engine, dict[str, WeightSupport]]:
    spec = load_engine(engine)
    return spec, dict(spec.export.weights) if spec.export else {}


def check_weights(engine: str, fmt: WeightFormat, gpu: Gpu) -> tuple[str, ...]:
    """Notes for ``fmt`` on ``gpu`` with ``engine``; raises NotSupportedError if it cannot run."""
    row = format_support(fmt)
    spec, weights = _rules(engine)
    how = weights.get(row.key)
    if how is None:
        loaders = row.engines
        hint = (
            spec.export.weights_hint
            if spec.export and spec.export.weights_hint
            else f"use --engine {loaders[0]}"
            if len(loaders) == 1
            else f"use one of --engine {', '.join(loaders)}"
        )
        raise NotSupportedError(f"{engine} does not load {fmt.name} weights ({row.source})", hint)
    notes: list[str] = []
    if row.needs is not None and not gpu.supports(row.needs):
        if how.fallback is None or not gpu.supports("bf16"):
            raise NotSupportedError(
                f"{gpu.name} has no {row.needs} support, which {fmt.name} needs with {engine}",
                "use --weights bf16 or awq-int4, or a newer GPU"
                if row.needs != "fp4"
                else "nvfp4 needs a Blackwell GPU (B200); use --weights fp8 on Hopper",
            )
        notes.append(how.fallback)
    rules = spec.export
    upcasts = rules is not None and rules.runs_bf16_without_hardware
    if fmt.compute_dtype == "bf16" and not gpu.supports("bf16") and not upcasts:
        notes.append(f"{gpu.name} has no bf16: the engine is told to run in float16")
    if rules is not None and rules.vendors and gpu.vendor not in rules.vendors:
        others = [e.name for e in engines() if e.export and not e.export.vendors]
        raise NotSupportedError(
            f"{rules.display} runs on {' and '.join(rules.vendors)} GPUs only",
            f"use --engine {others[0]}" if others else "use another GPU",
        )
    return tuple(notes)


def kv_flag(engine: str, kv_dtype: str, model_kv: str, gpu: Gpu) -> str:
    """The engine's spelling of ``kv_dtype``; ``model_kv`` is the dtype ``auto`` gives."""
    spec = load_engine(engine)
    rules = spec.export
    table = dict(rules.kv_cache_dtypes) if rules else {}
    key = "model" if kv_dtype == model_kv and "model" in table else kv_dtype
    if key not in table:
        known = [k for k in table if k != "model"]
        raise NotSupportedError(
            f"{engine} has no {kv_dtype} KV cache",
            f"use --kv-dtype auto or {' or '.join(known)} ({KV_SOURCE})",
        )
    needs = rules.kv_needs.get(kv_dtype) if rules else None
    if needs is not None and not gpu.supports(needs):
        raise NotSupportedError(
            f"{rules.display if rules else engine}'s {kv_dtype.upper()} KV cache needs "
            f"{needs.upper()} hardware, which {gpu.name} lacks",
            "use --kv-dtype auto",
        )
    return table[key]
