"""Every command README.md and docs/*.md show runs as written (exit code 0), and where the
text states figures, the command prints them. Commands that need a server, the network or
a GPU are skipped with the reason (tests/docs/doc_commands.py lists the rules)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deepfit.units import GiB

from .doc_commands import ROOT, DocCommand, python_blocks, shell_commands

COMMANDS = shell_commands()
README = (ROOT / "README.md").read_text(encoding="utf-8")
DISTRIBUTED = (ROOT / "docs" / "seed-distributed-inference.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch folder with a `deepfit` on PATH and the README's example config path."""
    work = tmp_path_factory.mktemp("docs")
    bin_dir = work / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "deepfit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m deepfit "$@"\n')
    shim.chmod(0o755)
    example = work / "path" / "to" / "config.json"
    example.parent.mkdir(parents=True)
    shutil.copy(ROOT / "src/deepfit/models/data/configs/Qwen--Qwen2.5-7B.json", example)
    return work


def _run(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{cwd / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "200",
    }
    return subprocess.run(
        ["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _json(cmd: str, cwd: Path) -> Any:
    out = _run(f"{cmd} --json", cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_doc_command_runs(cmd: DocCommand, workdir: Path) -> None:
    if cmd.skip:
        pytest.skip(cmd.skip)
    out = _run(cmd.text, workdir)
    assert out.returncode == 0, f"{cmd.doc}:{cmd.line}: {cmd.text}\n{out.stderr}"
    assert "Traceback" not in out.stderr


def test_the_harness_finds_the_readme_commands() -> None:
    texts = {c.text for c in COMMANDS}
    assert "deepfit memory deepseek-v3 --gpu H200 --gpus 8 --weights fp8 --context 32768" in texts
    assert any(t.startswith("deepfit bench http") for t in texts)
    ran = [c for c in COMMANDS if not c.skip]
    assert len(ran) >= 25, [c.text for c in ran]


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: f"{b.doc}:{b.line}")
def test_doc_python_runs(block: DocCommand) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block.text, f"{block.doc}:{block.line}", "exec"), namespace)


def test_readme_try_it_figures(workdir: Path) -> None:
    """README "Try it": 79.3 GiB of weights, 2.0 of activations, 3.5 outside torch and in
    CUDA graphs, 42.2 of MLA latent KV cache, a 644K-token pool, 19 sequences of 32K."""
    stated = re.search(
        r"\(([\d.]+) GiB of weights, ([\d.]+) GiB of\s+activations, ([\d.]+) GiB outside "
        r"torch and in CUDA graphs, ([\d.]+) GiB of MLA latent KV cache\), the\s+verdict, "
        r"the KV pool \((\d+)K tokens\) and the concurrency \((\d+) sequences",
        README,
    )
    assert stated, "the README's Try-it figures moved; update this test's pattern"
    data = _json(
        "deepfit memory deepseek-v3 --gpu H200 --gpus 8 --weights fp8 --context 32768", workdir
    )
    row = data["per_gpu"]
    for key, text in zip(
        ("weights_bytes", "activations_bytes", "overhead_bytes", "kv_cache_bytes"),
        stated.groups()[:4],
        strict=True,
    ):
        assert f"{row[key] / GiB:.1f}" == text, key
    assert data["fits"]
    assert round(data["kv_capacity_tokens"] / 1000) == int(stated.group(5))
    assert data["max_concurrency"] == int(stated.group(6))


def test_readme_info_figures(workdir: Path) -> None:
    stated = re.search(r"DeepSeek-V2: ([\d,]+)\s+#\s+in total, ([\d,]+) active", README)
    assert stated
    params = _json("deepfit info deepseek-236b", workdir)["params"]
    assert f"{params['total']:,}" == stated.group(1)
    assert f"{params['active']:,}" == stated.group(2)


def test_readme_validate_figures(workdir: Path) -> None:
    """README "Speed": rows covered and the held-in / held-out median and p90 errors."""
    covered = re.search(r"recomputes every covered row \((\d+) of (\d+);", README)
    errors = re.search(
        r"\*\*([\d.]+)%, p90 ([\d.]+)%\*\*\s+on\s+the\s+(\d+)\s+held-in\s+rows\s+and\s+"
        r"\*\*([\d.]+)%, ([\d.]+)%\*\*\s+on\s+the\s+(\d+)\s+held-out\s+rows",
        README,
    )
    assert covered and errors
    data = _json("deepfit validate", workdir)
    assert data["covered"] == int(covered.group(1))
    assert data["covered"] + data["skipped"] == int(covered.group(2))
    for split, (median, p90, rows) in (
        ("held_in", errors.groups()[:3]),
        ("held_out", errors.groups()[3:]),
    ):
        st = data["summary_trust_a"][split]["overall"]["output_tokens_per_s"]
        assert (f"{st['median_ape']:.1%}", f"{st['p90_ape']:.1%}") == (f"{median}%", f"{p90}%")
        assert st["rows"] == int(rows)


def test_distributed_inference_table(workdir: Path) -> None:
    """docs/seed-distributed-inference.md: the table rows its three commands reproduce."""
    rows = {
        "FP8, TP8, as many as fit": "--tp 8 --weights fp8 --concurrency max",
        "BF16, TP4 x PP2 (the seed's layout), one user": "--tp 4 --pp 2 --weights bf16 "
        "--concurrency 1",
        "FP8, SGLang with data-parallel attention, as many as fit": "--engine sglang "
        "--dp-attention --weights fp8 --concurrency max",
    }
    for label, flags in rows.items():
        line = next(ln for ln in DISTRIBUTED.splitlines() if ln.startswith(f"| {label} |"))
        at_once, ttft, tpot, tps = (c.strip() for c in line.strip("|").split("|")[1:])
        cmd = f"deepfit perf deepseek-236b --gpu H100 --gpus 8 {flags} --input-len 1000 "
        data = _json(cmd + "--output-len 500", workdir)
        assert f"{data['concurrency']:,}" == at_once, label
        assert f"{data['ttft_s'] * 1000:.0f} ms" == ttft, label
        stated_tpot = float(tpot.split()[0])
        assert abs(data["tpot_s"] * 1000 - stated_tpot) <= 0.05 * stated_tpot + 0.05, label
        assert f"{data['output_tokens_per_s']:,.0f}" == tps, label


def test_seed_claim_7b_verdict(workdir: Path) -> None:
    """docs/seed-claims.md: memory there, context beyond the model: does not fit, would at
    4,096 tokens."""
    out = _run(
        "deepfit memory deepseek-7b --gpu RTX4090 --weights gptq-int4 --context 10240", workdir
    )
    assert out.returncode == 0
    assert "DOES NOT FIT" in out.stdout and "up to 4,096 tokens fits" in out.stdout
