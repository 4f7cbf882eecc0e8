"""Golden files pin each exporter's output; every command and file is parsed by the engine's
own parser where it installs here (else a documented flag table; see docs/export.md).

Regenerate after an intended change: ``DEEPFIT_UPDATE_GOLDEN=1 pytest tests/golden``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import deepfit
from deepfit.export import Export, export_config

from . import engine_parsers as ep
from .cases import CASES

DATA = Path(__file__).parent / "data"


def _export(name: str) -> Export:
    model, gpu, kw = CASES[name]
    return export_config(deepfit.load_model(model), deepfit.load_gpu(gpu), **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    got = json.dumps(_export(name).to_dict(), indent=2, sort_keys=True) + "\n"
    path = DATA / f"{name}.json"
    if os.environ.get("DEEPFIT_UPDATE_GOLDEN") == "1":
        DATA.mkdir(exist_ok=True)
        path.write_text(got)
    assert path.exists(), f"no golden file {path}; run with DEEPFIT_UPDATE_GOLDEN=1"
    assert got == path.read_text(), f"{name} changed; regenerate if intended"


@pytest.mark.parametrize("name", sorted(CASES))
def test_scripts_are_valid_bash(name: str, tmp_path: Path) -> None:
    for file, content in _export(name).files.items():
        if file.endswith(".sh"):
            script = tmp_path / file
            script.write_text(content)
            subprocess.run(["bash", "-n", str(script)], check=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_yaml_files_parse(name: str) -> None:
    for file, content in _export(name).files.items():
        if file.endswith(".yaml"):
            assert isinstance(yaml.safe_load(content), dict)


def _serve_argvs(exp: Export) -> list[tuple[str, ...]]:
    out = []
    for step in exp.steps:
        argv = step.argv
        if argv[0] == "mpirun":
            argv = argv[argv.index("trtllm-llmapi-launch") + 1 :]
        if argv[0] != "ray":
            out.append(argv)
    return out


def _check_command(argv: tuple[str, ...], exp: Export) -> str:
    if argv[0] == "vllm":
        return ep.check_vllm(argv)
    if argv[:2] == ("python", "-m"):
        return ep.check_sglang(argv)
    if argv[0] == "trtllm-serve":
        parsed = ep.parse_by_table(argv[1:], ep.TRTLLM_SERVE_FLAGS, 1)
        options = yaml.safe_load(exp.files[parsed["--extra_llm_api_options"]])
        for key, sub in options.items():
            assert key in ep.TRTLLM_OPTION_KEYS, key
            allowed = ep.TRTLLM_OPTION_KEYS[key]
            assert set(sub) <= allowed if allowed is not None else isinstance(sub, bool)
        return "table"
    assert argv[0] == "llama-server"
    parsed = ep.parse_by_table(argv[1:], ep.LLAMA_SERVER_FLAGS, 0)
    assert parsed["--cache-type-k"] in ep.LLAMA_CACHE_TYPES
    assert parsed["-fa"] in ("on", "off", "auto")
    return "table"


@pytest.mark.parametrize("name", sorted(CASES))
def test_commands_parse(name: str) -> None:
    exp = _export(name)
    used = {_check_command(argv, exp) for argv in _serve_argvs(exp)}
    assert used
    for file, content in exp.files.items():
        if file == "Modelfile":
            assert ep.check_modelfile(content)["num_ctx"] == str(exp.settings["context_tokens"])
        elif file == "task.yaml":
            ep.check_skypilot(yaml.safe_load(content))
        elif file in ("deployment.yaml", "leaderworkerset.yaml"):
            ep.check_kubernetes(yaml.safe_load(content))


def test_vllm_own_parser_reads_the_planned_numbers() -> None:
    exp = _export("deepseek-v3-h200-vllm")
    args: Any = ep.parse_vllm(exp.argv)
    assert args.tensor_parallel_size == 8 and args.enable_expert_parallel
    assert args.max_model_len == 32768 and args.max_num_seqs == 16
    assert args.speculative_config["method"] == "deepseek_mtp"


def test_sglang_own_parser_reads_the_planned_numbers() -> None:
    exp = _export("deepseek-v3-h200-sglang")
    args: Any = ep.parse_sglang(exp.argv)
    assert args.tp_size == 8 and args.dp_size == 8 and args.enable_dp_attention
    assert args.context_length == 32768 and args.max_running_requests == 16


def test_skypilot_own_validation() -> None:
    if not ep.has("sky"):
        pytest.skip("skypilot is not installed")
    exp = _export("llama-3.1-70b-h100x16-skypilot")
    assert ep.check_skypilot(yaml.safe_load(exp.files["task.yaml"])) == "skypilot"


def test_kubernetes_openapi_schema() -> None:
    if not ep.has("kubernetes_validate"):
        pytest.skip("kubernetes-validate is not installed")
    exp = _export("deepseek-v3-h200-kubernetes")
    manifest = yaml.safe_load(exp.files["deployment.yaml"])
    assert ep.check_kubernetes(manifest) == "kubernetes-validate"
