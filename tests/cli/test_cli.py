"""The command line: exit codes, one-line errors, JSON on stdout only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepfit.cli.main import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_info_json_deepseek_236b() -> None:
    out = run("info", "deepseek-236b", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # DeepSeek-V2 as transformers builds it (shared/model-configs/param-counts.csv)
    assert data["params_total"] == 235_741_434_880
    assert data["id"] == "deepseek-ai/DeepSeek-V2"
    assert data["architecture"]["attention"]["kind"] == "mla"
    assert 0.98 * 21e9 <= data["params_active"] <= 1.02 * 21e9


def test_info_table_shows_total_and_active() -> None:
    out = run("info", "deepseek-236b", env={"COLUMNS": "120"})
    assert out.returncode == 0
    assert "235,741,434,880" in out.stdout and "active per token" in out.stdout


def test_models_and_gpus_json() -> None:
    models = json.loads(run("models", "--json").stdout)["models"]
    ids = {m["id"] for m in models}
    assert {"deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V2"} <= ids
    assert any("deepseek-7b" in m["aliases"] for m in models)
    gpus = json.loads(run("gpus", "--json").stdout)["gpus"]
    assert any(g["name"] == "H100 SXM" for g in gpus)
    assert all(g["source"] for g in gpus)


@pytest.mark.parametrize(
    "args",
    [
        ["info", "no-such-model"],
        ["info"],
        ["info", "deepseek-v3", "--bogus"],
        ["frobnicate"],
        ["info", "/nonexistent/dir/config.json/.."],
        ["info", "deepseek-r1-14b"],
    ],
)
def test_bad_input_one_line_exit_2(args: list[str]) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepfit: error:")
    assert "hint:" in lines[0]
    assert "Traceback" not in out.stderr


def test_malformed_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "llama", "hidden_size": -1}')
    out = run("info", str(bad))
    assert out.returncode == 2 and "hidden_size" in out.stderr


def test_debug_shows_traceback() -> None:
    out = run("info", "no-such-model", env={"DEEPFIT_DEBUG": "1"})
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_main_returns_codes_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "deepseek-7b", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params_total"] == 6_910_365_696
    assert main(["info", "nope"]) == 2
