"""TensorRT-LLM: ``trtllm-serve`` (PyTorch backend) with an ``--extra_llm_api_options`` YAML.

The command takes the layout and limits (``--tp_size``, ``--pp_size``, ``--ep_size``,
``--max_batch_size``, ``--max_num_tokens``, ``--max_seq_len``,
``--kv_cache_free_gpu_memory_fraction``); the YAML holds the LLM API options the command has
no flag for (``kv_cache_config.dtype``, ``enable_attention_dp``, ``speculative_config``).
TensorRT-LLM's KV fraction is of the memory *free after the weights*, as deepfit's memory
model budgets it (docs: trtllm-serve; LLM API reference ``KvCacheConfig``). Many nodes run
under MPI: ``mpirun`` with ``trtllm-llmapi-launch`` (docs: Deployment > multi-node).
"""

from __future__ import annotations

from typing import Any

from ..engines import load_engine
from ..errors import NotSupportedError
from .common import budget_fraction, build, has_mtp, kv_cache_dtype
from .deployment import Deployment
from .result import Export, Step
from .yamlout import dump_yaml

OPTIONS_FILE = "extra_llm_api_options.yaml"


def extra_options(dep: Deployment) -> dict[str, Any]:
    """The ``--extra_llm_api_options`` YAML content as data."""
    opts: dict[str, Any] = {
        "kv_cache_config": {
            "dtype": kv_cache_dtype(dep),
            "free_gpu_memory_fraction": budget_fraction(dep),
        },
        "enable_attention_dp": dep.estimate.dp_attention,
        "cuda_graph_config": {"max_batch_size": dep.per_replica_concurrency},
    }
    if dep.spec_tokens > 0:
        if not has_mtp(dep):
            raise NotSupportedError(
                "the TensorRT-LLM export drafts only with DeepSeek MTP layers",
                "drop --spec-tokens, or use --engine vllm (n-gram drafting)",
            )
        opts["speculative_config"] = {
            "decoding_type": "MTP",
            "num_nextn_predict_layers": dep.spec_tokens,
        }
    return opts


def trtllm_argv(dep: Deployment, *, host: str = "0.0.0.0") -> tuple[str, ...]:
    """The ``trtllm-serve`` command line for ``dep``."""
    if dep.dp > 1 and not dep.estimate.dp_attention:
        raise NotSupportedError(
            "trtllm-serve runs one model instance; it has no data-parallel replicas",
            f"export one replica with --gpus {dep.tp * dep.pp} and start {dep.dp} of them",
        )
    argv = ["trtllm-serve", dep.model_path, "--backend", "pytorch"]
    argv += ["--tp_size", str(dep.tp * (dep.dp if dep.estimate.dp_attention else 1))]
    argv += ["--pp_size", str(dep.pp), "--ep_size", str(dep.ep)]
    argv += ["--max_batch_size", str(dep.per_replica_concurrency)]
    argv += ["--max_num_tokens", str(load_engine("trtllm").max_batched_tokens)]
    argv += ["--max_seq_len", str(dep.context)]
    argv += ["--kv_cache_free_gpu_memory_fraction", f"{budget_fraction(dep):g}"]
    argv += ["--extra_llm_api_options", OPTIONS_FILE]
    argv += ["--host", host, "--port", str(dep.port)]
    return tuple(argv)


def export_trtllm(dep: Deployment) -> Export:
    """``trtllm-serve`` and its options file for ``dep``."""
    serve = trtllm_argv(dep)
    files = {OPTIONS_FILE: dump_yaml(extra_options(dep))}
    notes = [
        f"KV budget: {dep.concurrency} x {dep.context:,} tokens fit (deepfit: at most "
        f"{dep.estimate.max_concurrency}; free_gpu_memory_fraction {budget_fraction(dep):g} "
        "of the memory left after weights)"
    ]
    if dep.nodes == 1:
        return build(dep, "TensorRT-LLM", (Step("serve", serve),), notes=notes, files=files)
    hosts = ",".join(
        ["${HEAD_IP}:" + str(dep.gpus_per_node)]
        + [f"${{NODE{i}_IP}}:{dep.gpus_per_node}" for i in range(1, dep.nodes)]
    )
    launch: tuple[str, ...] = ("mpirun", "--allow-run-as-root", "-np", str(dep.gpus), "-H", hosts)
    launch += ("trtllm-llmapi-launch", *serve)
    notes.append(
        "many nodes: run serve.sh on node 0 only (NODE_RANK=0); mpirun starts the ranks on the "
        "other nodes over SSH: set NODE1_IP.. to their addresses"
    )
    step = Step("head", launch, comment="serve (MPI over all nodes)")
    return build(dep, "TensorRT-LLM", (step,), notes=notes, files=files)
