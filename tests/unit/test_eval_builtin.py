"""`deepfit eval` with the built-in exact-match evaluator (no lm-eval needed): scores equal
what the server's answers imply, two deployments compare, bad input is one line + exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_eval_helpers import (
    CAPITALS,
    DEPLOYMENT,
    answer_server,
    cli,
    closed_port,
    records,
    write_task,
)

WRONG_PERU = {**CAPITALS, "Peru": "Quito"}  # 4 of 5 right
WRONG_TWO = {**WRONG_PERU, "Egypt": "Alexandria"}  # 3 of 5 right


def _run(url: str, tasks: Path, out: Path, weights: str, *extra: str) -> int:
    return cli(
        [
            "eval", url, "--tasks", "tiny_capitals", "--include-path", str(tasks),
            "--limit", "5", "-o", str(out), "--backend", "builtin", *DEPLOYMENT,
            "--weights", weights, "--json", *extra,
        ]
    )  # fmt: skip


def test_scores_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = write_task(tmp_path / "tasks")
    a, b = tmp_path / "bf16.jsonl", tmp_path / "int4.jsonl"
    with answer_server(WRONG_PERU) as (url, log):
        assert _run(url, tasks, a, "bf16") == 0
    assert len(log) == 5 and all(x["temperature"] == 0 and x["model"] == "tiny" for x in log)
    printed = json.loads(capsys.readouterr().out)
    assert printed["scores"][0]["value"] == pytest.approx(0.8)
    (head,) = records(a, "eval")
    assert head["deployment"]["model"] == "qwen2.5-7b"
    assert head["deployment"]["weights"] == "bf16" and head["backend"] == "builtin"
    (score,) = records(a, "eval_score")
    assert (score["task"], score["metric"], score["value"]) == ("tiny_capitals", "exact_match", 0.8)
    assert score["samples"] == 5
    assert score["stderr"] == pytest.approx(0.2)  # sqrt(0.8 * 0.2 * 5 / 4) / sqrt(5)
    samples = records(a, "eval_sample")
    assert [s["scores"]["exact_match"] for s in samples] == [1, 1, 1, 1, 0]
    assert samples[4]["response"].strip() == "Quito"

    with answer_server(WRONG_TWO, mode="ok") as (url, _):
        assert _run(url, tasks, b, "awq-int4", "--api", "chat") == 0
    capsys.readouterr()
    assert records(b, "eval_score")[0]["value"] == pytest.approx(0.6)

    assert cli(["eval", "--compare", str(a), str(b), "--json"]) == 0
    cmp = json.loads(capsys.readouterr().out)
    (row,) = cmp["rows"]
    assert row["a"] == pytest.approx(0.8) and row["b"] == pytest.approx(0.6)
    assert row["delta"] == pytest.approx(-0.2)
    assert row["relative_change"] == pytest.approx(-0.25)
    assert row["loss_percent"] == pytest.approx(25.0)  # positive = B worse
    assert row["delta_ci95"] > 0
    assert cmp["b"]["deployment"]["weights"] == "awq-int4"
    assert cli(["eval", "--compare", str(a), str(b)]) == 0  # the table renders
    assert "A: qwen2.5-7b / bf16 / vllm / H100" in capsys.readouterr().out


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_closed_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = write_task(tmp_path / "tasks")
    out = tmp_path / "out.jsonl"
    assert _run(f"http://127.0.0.1:{closed_port()}", tasks, out, "bf16") == 2
    assert "cannot connect" in _one_line_error(capsys)
    assert not out.exists()


def test_not_an_openai_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = write_task(tmp_path / "tasks")
    with answer_server(CAPITALS, mode="html") as (url, _):
        assert _run(url, tasks, tmp_path / "o.jsonl", "bf16") == 2
    assert "not an OpenAI-compatible server" in _one_line_error(capsys)


def test_unknown_task(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = write_task(tmp_path / "tasks")
    out = tmp_path / "out.jsonl"
    with answer_server(CAPITALS) as (url, log):
        code = cli(
            ["eval", url, "--tasks", "tiny_capitols", "--include-path", str(tasks),
             "--backend", "builtin", "-o", str(out)]
        )  # fmt: skip
    assert code == 2 and not log and not out.exists()
    err = _one_line_error(capsys)
    assert "unknown task(s): tiny_capitols" in err and "tiny_capitals" in err  # a suggestion


def test_server_dies_partial_results_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_task(tmp_path / "tasks")
    out = tmp_path / "out.jsonl"
    with answer_server(CAPITALS, mode="die") as (url, _):
        assert _run(url, tasks, out, "bf16", "--max-retries", "1") == 2
    err = _one_line_error(capsys)
    assert "failed 1 times (HTTP 503)" in err and str(out) in err
    assert len(records(out, "eval_sample")) == 2  # the two answers before it broke
    (e,) = records(out, "eval_error")
    assert e["server"] is True


def test_compare_needs_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "bench.jsonl"
    empty.write_text('{"type": "run", "run_id": "x"}\n')
    assert cli(["eval", "--compare", str(empty), str(empty)]) == 2
    assert "holds no eval run" in _one_line_error(capsys)
    assert cli(["eval"]) == 2
    assert "needs a URL and --tasks" in _one_line_error(capsys)
