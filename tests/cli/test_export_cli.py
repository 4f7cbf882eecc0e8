"""`deepfit export`: JSON keys, files written with --out, plans, and exit code 2 on bad input.

The lead registers the parser in cli/main.py; until then these tests build a parser the
same way main does (``add_export_parser`` on a sub-parser object).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import NoReturn

import pytest

from deepfit.cli.export_cmd import add_export_parser
from deepfit.errors import BadInputError, DeepfitError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise BadInputError(message, "see --help")


def run(*argv: str) -> int:
    parser = _Parser(prog="deepfit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_export_parser(sub)
    try:
        args = parser.parse_args(["export", *argv])
        code: int = args.func(args)
        return code
    except DeepfitError:
        return 2


DSV3 = ("deepseek-v3", "--gpu", "H200", "--gpus", "8", "--tp", "8", "--ep", "8",
        "--context", "32768", "--concurrency", "16")  # fmt: skip


def test_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*DSV3, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"engine", "argv", "env", "files", "notes"}
    assert data["engine"] == "vllm" and data["argv"][:2] == ["vllm", "serve"]
    assert "serve.sh" in data["files"] and isinstance(data["notes"], list)


def test_default_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*DSV3, "--engine", "sglang") == 0
    out = capsys.readouterr().out
    assert out.startswith("#!/usr/bin/env bash") and "--enable-dp-attention" in out


def test_out_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*DSV3, "--engine", "trtllm", "--out", str(tmp_path)) == 0
    assert (tmp_path / "serve.sh").stat().st_mode & 0o111
    assert (tmp_path / "extra_llm_api_options.yaml").exists()
    assert str(tmp_path / "serve.sh") in capsys.readouterr().out


def test_kubernetes_and_skypilot_print_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*DSV3, "--engine", "kubernetes") == 0
    assert capsys.readouterr().out.startswith("apiVersion: apps/v1")
    assert run(*DSV3, "--target", "skypilot") == 0
    assert 'accelerators: "H200:8"' in capsys.readouterr().out


def test_from_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = {"plans": [{"gpu": "A100-80GB", "gpus": 16, "weights": "bf16", "kv_dtype": "auto",
                       "tp": 8, "pp": 2, "ep": 1, "dp": 1, "concurrency": 32}]}  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert run("llama-3.1-70b", "--plan", str(path), "--context", "8192", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["nodes"] == 2 and data["settings"]["concurrency"] == 32
    assert "--pipeline-parallel-size" in data["argv"]


@pytest.mark.parametrize(
    "argv",
    [
        ("deepseek-v3",),  # no --gpu
        (*DSV3[:-2], "--concurrency", "100000"),  # more than fits
        ("qwen2.5-7b", "--gpu", "RTX4090", "--engine", "llamacpp", "--weights", "awq-int4"),
        ("qwen2.5-7b", "--gpu", "H100", "--engine", "nonesuch"),
        ("--plan", "/nonexistent/plan.json"),
    ],
)
def test_bad_input_exits_2(argv: tuple[str, ...]) -> None:
    assert run(*argv) == 2
