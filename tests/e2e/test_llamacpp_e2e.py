"""`deepfit bench` against llama.cpp's server (llama-cpp-python) serving a tiny random
Llama built here; compared with `deepfit perf --gpu cpu`. Opt-in (minutes, builds a model):

    DEEPFIT_E2E=1 DEEPFIT_LLAMA_SRC=/path/to/llama_cpp_python-0.3.x \
        PYTHONPATH=src:. pytest -m e2e tests/e2e/test_llamacpp_e2e.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

from deepfit.measure import read_runs
from tests.unit.measure_helpers import cli

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("DEEPFIT_E2E") != "1", reason="set DEEPFIT_E2E=1"),
]


def _e2e() -> object:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("sentencepiece")
    pytest.importorskip("transformers")
    spec = importlib.util.spec_from_file_location("cpu_e2e", ROOT / "benchmarks" / "cpu_e2e.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cpu_e2e"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_bench_llamacpp(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    e = _e2e()
    src = os.environ.get("DEEPFIT_LLAMA_SRC")
    if not src:
        pytest.skip("set DEEPFIT_LLAMA_SRC to the unpacked llama-cpp-python sdist")
    work = tmp_path_factory.mktemp("e2e")
    model_dir = e.build_model(work, "tiny", e.build_tokenizer(work))  # type: ignore[attr-defined]
    gguf = e.convert(model_dir, Path(src))  # type: ignore[attr-defined]
    out = work / "r.jsonl"
    with e.serve(gguf) as url:  # type: ignore[attr-defined]
        rc = cli(
            [
                "bench",
                url,
                "-o",
                str(out),
                "--json",
                "--requests",
                "4",
                "--input-len",
                "32",
                "--output-len",
                "16",
                "--metrics-interval",
                "0",
                "--model",
                str(model_dir / "config.json"),
                "--gpu",
                "cpu",
                "--engine",
                "llamacpp",
                "--weights",
                "fp16",
            ]
        )
    assert rc == 0
    (level,) = json.loads(capsys.readouterr().out)["levels"]
    assert level["ok"] == 4 and level["token_source"] == "usage"
    (run,) = read_runs(out)
    assert all(1 <= (r.completion_tokens or 0) <= 16 for r in run.requests)
    assert all(r.prompt_tokens for r in run.requests)
    assert "comparison" in level
