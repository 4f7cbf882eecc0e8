"""SGLang: ``python -m sglang.launch_server`` (flags from ``sglang/srt/server_args.py``).

``--tp-size`` is the GPUs of one model instance across nodes (SGLang has no pipeline
parallelism in this export); ``--dp-size`` replicas; with ``--enable-dp-attention`` (MLA
models such as DeepSeek-V3) attention runs data-parallel inside the tensor-parallel group,
so ``--dp-size`` equals ``--tp-size`` and every GPU holds its own KV cache.
``--mem-fraction-static`` covers weights + KV pool (its default depends on tp);
``--max-running-requests`` is the total over replicas; multi-node uses ``--nnodes``,
``--node-rank`` and ``--dist-init-addr`` (docs: Advanced features > Multi-node deployment).
"""

from __future__ import annotations

from ..errors import NotSupportedError
from .common import budget_fraction, build, dtype_flag, has_mtp, kv_cache_dtype, quantization
from .deployment import Deployment
from .result import Export, Step

DIST_PORT = 5000


def sglang_argv(dep: Deployment, *, host: str = "0.0.0.0") -> tuple[str, ...]:
    """The ``launch_server`` command line for ``dep``."""
    if dep.pp > 1:
        raise NotSupportedError(
            "the SGLang export has no pipeline parallelism", "use --pp 1 or --engine vllm"
        )
    attention_dp = dep.estimate.dp_attention
    tp_size = dep.tp * dep.dp if attention_dp else dep.tp
    dp_size = tp_size if attention_dp else dep.dp
    argv = ["python", "-m", "sglang.launch_server", "--model-path", dep.model_path]
    argv += ["--tp-size", str(tp_size)]
    if dp_size > 1:
        argv += ["--dp-size", str(dp_size)]
    if attention_dp:
        argv.append("--enable-dp-attention")
    if dep.ep > 1:
        argv += ["--ep-size", str(dep.ep)]
    quant = quantization(dep)
    if quant:
        argv += ["--quantization", quant]
    dtype = dtype_flag(dep)
    if dtype != "auto":
        argv += ["--dtype", dtype]
    argv += ["--kv-cache-dtype", kv_cache_dtype(dep)]
    argv += ["--context-length", str(dep.context)]
    argv += ["--max-running-requests", str(dep.concurrency)]
    argv += ["--mem-fraction-static", f"{budget_fraction(dep):g}"]
    if dep.spec_tokens > 0:
        if dep.extras.max_loras:
            raise NotSupportedError(
                "SGLang serves LoRA adapters only without a draft model or MTP "
                "(server_args: LoRA is compatible with NGRAM speculation alone)",
                "drop --max-loras or the drafter, or use --engine vllm",
            )
        argv += _speculative(dep)
    if dep.extras.max_loras:  # the pool deepfit counted: max_loras x max_lora_rank
        argv += ["--enable-lora", "--max-loras-per-batch", str(dep.extras.max_loras)]
        argv += ["--max-lora-rank", str(dep.extras.max_lora_rank), "--lora-target-modules", "all"]
    if dep.nodes > 1:
        argv += ["--nnodes", str(dep.nodes), "--node-rank", "${NODE_RANK}"]
        argv += ["--dist-init-addr", f"${{HEAD_IP}}:{DIST_PORT}"]
    argv += ["--host", host, "--port", str(dep.port)]
    return tuple(argv)


def _speculative(dep: Deployment) -> list[str]:
    """A draft model (``STANDALONE``) or the checkpoint's MTP layer (``EAGLE`` on NextN)."""
    draft = dep.extras.draft
    if draft is not None:
        algo = ["--speculative-algorithm", "STANDALONE"]
        algo += ["--speculative-draft-model-path", draft.id]
    elif has_mtp(dep):
        algo = ["--speculative-algorithm", "EAGLE"]
    else:
        raise NotSupportedError(
            "SGLang speculative decoding needs a draft model or MTP layers",
            "name one with --draft-model, drop --spec-tokens, or use --engine vllm (n-gram)",
        )
    return [
        *algo,
        "--speculative-num-steps",
        str(dep.spec_tokens),
        "--speculative-eagle-topk",
        "1",
        "--speculative-num-draft-tokens",
        str(dep.spec_tokens + 1),
    ]


def export_sglang(dep: Deployment) -> Export:
    """``sglang.launch_server`` for ``dep`` (the same command on every node)."""
    step = Step("serve", sglang_argv(dep), comment="serve (every node)" if dep.nodes > 1 else "")
    notes = [
        f"KV budget: {dep.concurrency} x {dep.context:,} tokens fit (deepfit: at most "
        f"{dep.estimate.max_concurrency} at --mem-fraction-static {budget_fraction(dep):g})"
    ]
    if dep.estimate.dp_attention:
        notes.append("--enable-dp-attention: MLA attention data-parallel, one KV cache per GPU")
    return build(dep, "SGLang", (step,), notes=notes)
