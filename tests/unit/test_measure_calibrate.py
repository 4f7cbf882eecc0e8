"""`deepfit calibrate`: fit from a bench result, store in the profile, change perf answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import deepfit
from deepfit.measure import (
    Deployment,
    RequestRecord,
    RunHeader,
    profile_key,
    profile_overrides,
    profile_path,
    save_entry,
)
from deepfit.measure.compare import predict
from deepfit.measure.results import JsonlWriter
from tests.unit.measure_helpers import cli

DEP = Deployment("llama-3.1-8b", "H100", engine="vllm")


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPFIT_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_profile_path_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert profile_path({"DEEPFIT_CONFIG_DIR": "/x"}) == Path("/x/calibration.json")
    assert profile_path({"XDG_CONFIG_HOME": "/c"}) == Path("/c/deepfit/calibration.json")


def test_overrides_round_trip(_config: Path) -> None:
    assert profile_overrides("vllm", "H100") is None
    save_entry("vLLM", "h100", {"factors": {"bandwidth_efficiency": 0.5, "junk": 1}})
    assert profile_overrides("vllm", "H100") == {"bandwidth_efficiency": 0.5}
    (_config / "calibration.json").write_text("{not json")
    assert profile_overrides("vllm", "H100") is None  # a broken profile is no profile


def _fake_results(path: Path, scale: float) -> None:
    """A bench file whose measured TPOT/TTFT are ``scale`` x today's prediction."""
    est = predict(DEP, 1000, 200, 8, use_profile=False)
    with JsonlWriter(path) as w:
        w.write(RunHeader("r1", "http://x", "completions", "m", DEP, {}, "t").to_dict())
        for i in range(8):
            ttft, tpot = est.ttft_s * scale, est.tpot_s * scale
            w.write(
                RequestRecord(
                    "r1", i, "c=8", 0.0, True, None, ttft, ttft + 199 * tpot, (), 1000, 200
                ).to_dict()
            )


def test_calibrate_changes_later_perf_answers(tmp_path: Path, _config: Path) -> None:
    results = tmp_path / "r.jsonl"
    _fake_results(results, 1.6)
    model, gpu = deepfit.load_model("llama-3.1-8b"), deepfit.load_gpu("H100")
    before = deepfit.estimate_perf(model, gpu, input_len=1000, output_len=200, concurrency=8)
    assert cli(["calibrate", str(results), "--json"]) == 0
    overrides = profile_overrides("vllm", gpu.name)
    assert overrides is not None
    after = deepfit.estimate_perf(
        model, gpu, input_len=1000, output_len=200, concurrency=8, efficiency=overrides
    )
    assert after.source == "calibrated"
    assert after.tpot_s / (before.tpot_s * 1.6) == pytest.approx(1.0, abs=0.05)
    entries = json.loads((_config / "calibration.json").read_text())["entries"]
    entry = entries[profile_key("vllm", gpu.name)]
    assert entry["error_after"] < entry["error_before"]
    assert entry["from"][0]["source"].endswith("#r1 c=8")


def test_dry_run_saves_nothing(tmp_path: Path, _config: Path) -> None:
    results = tmp_path / "r.jsonl"
    _fake_results(results, 1.3)
    assert cli(["calibrate", str(results), "--dry-run", "--json"]) == 0
    assert not (_config / "calibration.json").exists()


def test_results_without_deployment_are_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "r.jsonl"
    with JsonlWriter(results) as w:
        w.write(RunHeader("r1", "u", "completions", "m", Deployment(), {}, "t").to_dict())
    assert cli(["calibrate", str(results)]) == 2
    assert "--model/--gpu/--engine" in capsys.readouterr().err


def test_results_whose_requests_all_failed_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run that names its deployment but has no successful request is not a header
    problem: calibrate says every request failed, and how."""
    bench = tmp_path / "r.jsonl"
    args = ["bench", "http://127.0.0.1:9", "-o", str(bench), "--requests", "2", "--json"]
    assert cli([*args, "--model", "qwen2.5-7b", "--gpu", "H100"]) == 2  # nothing listens on 9
    capsys.readouterr()
    assert cli(["calibrate", str(bench), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "no request in these files succeeded (2 requests; errors: ConnectError x2)" in err
    assert "--model/--gpu/--engine" not in err
