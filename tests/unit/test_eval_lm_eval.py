"""`deepfit eval` through lm-evaluation-harness (skipped without the `eval` extra): a local
YAML task over a local JSONL, so nothing is downloaded. ~5 s per run (lm-eval's import)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.unit.test_eval_helpers import CAPITALS, DEPLOYMENT, answer_server, cli, records
from tests.unit.test_eval_helpers import write_task as _write_task

pytest.importorskip("lm_eval")
pytest.importorskip("tenacity")  # lm-eval[api]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # --offline sets these in os.environ; monkeypatch puts them back after each test
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _run(url: str, tasks: Path, out: Path, weights: str, task: str = "tiny_capitals") -> int:
    return cli(
        [
            "eval", url, "--tasks", task, "--include-path", str(tasks), "--limit", "5",
            "-o", str(out), "--backend", "lm-eval", "--offline", "--num-concurrent", "2",
            "--max-retries", "1", *DEPLOYMENT, "--weights", weights, "--json",
        ]
    )  # fmt: skip


def test_lm_eval_scores_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = _write_task(tmp_path / "tasks")
    a, b = tmp_path / "bf16.jsonl", tmp_path / "int4.jsonl"
    with answer_server({**CAPITALS, "Peru": "Quito"}) as (url, log):
        assert _run(url, tasks, a, "bf16") == 0
    assert len(log) == 5 and log[0]["stop"] == ["\n"] and log[0]["temperature"] == 0
    with answer_server({**CAPITALS, "Peru": "Quito", "Japan": "Kyoto"}) as (url, _):
        assert _run(url, tasks, b, "awq-int4") == 0
    capsys.readouterr()
    (head,) = records(a, "eval")
    assert head["backend"] == "lm-eval" and head["deployment"]["gpu"] == "H100"
    (sa,) = records(a, "eval_score")
    assert (sa["metric"], sa["filter"], sa["value"], sa["samples"]) == (
        "exact_match",
        "strip",
        0.8,
        5,
    )
    assert len(records(a, "eval_sample")) == 5
    assert records(b, "eval_score")[0]["value"] == pytest.approx(0.6)
    assert cli(["eval", "--compare", str(a), str(b), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert row["delta"] == pytest.approx(-0.2) and row["loss_percent"] == pytest.approx(25.0)


def test_dataset_not_loadable_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = _write_task(tmp_path / "tasks")
    yaml = (tasks / "tiny_capitals.yaml").read_text()
    (tasks / "hub_only.yaml").write_text(
        yaml.replace("task: tiny_capitals", "task: hub_only")
        .replace("dataset_path: json", "dataset_path: nobody/no-such-dataset")
        .split("dataset_kwargs:")[0]
        + "test_split: test\noutput_type: generate_until\n"
        + yaml.split("output_type: generate_until\n")[1]
    )
    out = tmp_path / "out.jsonl"
    with answer_server(CAPITALS) as (url, _):
        assert _run(url, tasks, out, "bf16", "tiny_capitals,hub_only") == 2
    stderr = capsys.readouterr().err
    err = stderr.strip().splitlines()[-1]  # above it: lm-eval's own progress bars
    assert "Traceback" not in stderr and err.startswith("deepfit: error: task hub_only")
    assert "hub_only: its dataset could not be loaded" in err
    assert records(out, "eval_score")[0]["value"] == 1.0  # the task before it is kept
    assert records(out, "eval_error")[0]["task"] == "hub_only"


@pytest.mark.e2e
@pytest.mark.skipif(os.environ.get("DEEPFIT_E2E") != "1", reason="set DEEPFIT_E2E=1")
def test_lm_eval_unknown_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # scans lm-eval's whole task index (~7 s): opt-in
    tasks = _write_task(tmp_path / "tasks")
    with answer_server(CAPITALS) as (url, log):
        assert _run(url, tasks, tmp_path / "o.jsonl", "bf16", "gsm8k_nonsense") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown task(s): gsm8k_nonsense" in err and not log
