"""vLLM: ``vllm serve`` with the planned parallelism and the memory model's numbers; on many
nodes, a Ray cluster (``ray start`` on each node, then ``vllm serve`` on the head).

Flags follow vLLM's engine arguments (docs: Configuration > Engine Arguments):
``--tensor-parallel-size``, ``--pipeline-parallel-size``, ``--data-parallel-size``,
``--enable-expert-parallel`` (experts sharded over tp x dp), ``--max-model-len``,
``--max-num-seqs`` (per data-parallel rank), ``--gpu-memory-utilization`` (share of the whole
GPU), ``--kv-cache-dtype``, ``--speculative-config`` (JSON), ``--enable-lora --max-loras
--max-lora-rank`` (LoRA slots), ``--distributed-executor-backend ray`` for multi-node (docs:
Serving > Parallelism and Scaling).
"""

from __future__ import annotations

import json

from ..engines import load_engine
from .common import budget_fraction, build, dtype_flag, has_mtp, kv_cache_dtype, quantization
from .deployment import Deployment
from .result import Export, Step

RAY_PORT = 6379


def speculative_config(dep: Deployment) -> str | None:
    """The draft model asked for; else DeepSeek MTP where the checkpoint has MTP layers,
    else n-gram prompt lookup."""
    if dep.spec_tokens <= 0:
        return None
    draft = dep.extras.draft
    if draft is not None:
        cfg: dict[str, object] = {"model": draft.id, "num_speculative_tokens": dep.spec_tokens}
    elif has_mtp(dep):
        cfg = {
            "method": "deepseek_mtp",
            "num_speculative_tokens": dep.spec_tokens,
        }
    else:
        cfg = {"method": "ngram", "num_speculative_tokens": dep.spec_tokens, "prompt_lookup_max": 4}
    return json.dumps(cfg, separators=(",", ":"))


def vllm_argv(dep: Deployment, *, host: str = "0.0.0.0") -> tuple[str, ...]:
    """The ``vllm serve`` command line for ``dep``."""
    argv = ["vllm", "serve", dep.model_path]
    argv += ["--tensor-parallel-size", str(dep.tp), "--pipeline-parallel-size", str(dep.pp)]
    if dep.dp > 1:
        argv += ["--data-parallel-size", str(dep.dp)]
    if dep.ep > 1:
        argv.append("--enable-expert-parallel")
    quant = quantization(dep)
    if quant:
        argv += ["--quantization", quant]
    dtype = dtype_flag(dep)
    if dtype != "auto":
        argv += ["--dtype", dtype]
    argv += ["--kv-cache-dtype", kv_cache_dtype(dep)]
    argv += ["--max-model-len", str(dep.context)]
    argv += ["--max-num-seqs", str(dep.per_replica_concurrency)]
    argv += ["--max-num-batched-tokens", str(load_engine("vllm").max_batched_tokens)]
    argv += ["--gpu-memory-utilization", f"{budget_fraction(dep):g}"]
    spec = speculative_config(dep)
    if spec:
        argv += ["--speculative-config", spec]
    if dep.extras.max_loras:  # the slots deepfit counted: max_loras x max_lora_rank
        argv += ["--enable-lora", "--max-loras", str(dep.extras.max_loras)]
        argv += ["--max-lora-rank", str(dep.extras.max_lora_rank)]
    if dep.nodes > 1:
        argv += ["--distributed-executor-backend", "ray"]
    argv += ["--host", host, "--port", str(dep.port)]
    return tuple(argv)


def vllm_steps(dep: Deployment) -> tuple[Step, ...]:
    """One ``serve`` step, or Ray head/worker steps and the serve command on the head."""
    serve = Step("serve" if dep.nodes == 1 else "head", vllm_argv(dep), comment="serve")
    if dep.nodes == 1:
        return (serve,)
    return (
        Step("head", ("ray", "start", "--head", f"--port={RAY_PORT}"), comment="Ray head"),
        serve,
        Step(
            "worker",
            ("ray", "start", f"--address=${{HEAD_IP}}:{RAY_PORT}", "--block"),
            comment="join the head's Ray cluster and wait",
        ),
    )


def vllm_notes(dep: Deployment) -> list[str]:
    notes = [
        f"KV budget: {dep.concurrency} x {dep.context:,} tokens fit "
        f"(deepfit: at most {dep.estimate.max_concurrency} sequences of this length at "
        f"--gpu-memory-utilization {budget_fraction(dep):g})"
    ]
    if dep.ep > 1 and dep.ep != dep.tp * dep.dp:
        notes.append(f"vLLM shards experts over tp x dp = {dep.tp * dep.dp} ranks, not ep={dep.ep}")
    if dep.spec_tokens and has_mtp(dep) and dep.extras.draft is None:
        notes.append("MTP speculative decoding loads the MTP layer as a draft model")
    if dep.extras.max_loras:
        notes.append("add adapters with --lora-modules NAME=PATH (ranks up to --max-lora-rank)")
    return notes


def export_vllm(dep: Deployment) -> Export:
    """``vllm serve`` (and Ray on many nodes) for ``dep``."""
    steps = vllm_steps(dep)
    return build(dep, "vLLM", steps, notes=vllm_notes(dep), serve=steps[0 if dep.nodes == 1 else 1])
