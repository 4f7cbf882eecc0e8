"""Calibration is data: the core never reads the user's calibration profile. ``deepfit
validate`` and library estimates answer the same with and without one; only adapters that
load it (``deepfit perf``) change, and they say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import deepfit
from deepfit.hardware import list_gpus
from deepfit.measure.profile import FILE_NAME, profile_key
from deepfit.perf.calibration import Calibration, Provenance

ENGINES = ("vllm", "sglang", "trtllm", "trtllm-cpp", "llamacpp", "transformers")
#: Far from any bundled factor, so that a profile that leaks into an answer shows.
SLOW = {"bandwidth_efficiency": 0.05, "compute_efficiency": 0.05, "step_overhead_s": 0.5}


def _write_profile(folder: Path) -> None:
    entries = {
        profile_key(engine, gpu.name): {"factors": SLOW}
        for engine in ENGINES
        for gpu in list_gpus()
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE_NAME).write_text(json.dumps({"format": 1, "entries": entries}))


def _deepfit(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEEPFIT_CONFIG_DIR": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )


def test_validate_ignores_a_user_profile(tmp_path: Path) -> None:
    empty, calibrated = tmp_path / "empty", tmp_path / "calibrated"
    empty.mkdir()
    _write_profile(calibrated)
    without = json.loads(_deepfit(empty, "validate", "--json", "--rows").stdout)
    with_profile = json.loads(_deepfit(calibrated, "validate", "--json", "--rows").stdout)
    assert without["covered"] > 100
    assert with_profile == without


def test_estimate_perf_reads_no_profile() -> None:
    model, gpu = deepfit.load_model("llama-3.1-8b"), deepfit.load_gpu("H100")

    def estimate() -> deepfit.PerfEstimate:
        return deepfit.estimate_perf(model, gpu, input_len=1000, output_len=200, concurrency=8)

    before = estimate()
    _write_profile(Path(os.environ["DEEPFIT_CONFIG_DIR"]))
    after = estimate()
    assert after == before
    assert before.provenance is Provenance.FITTED  # vLLM's bundled fit on published runs
    assert before.source == "calibrated"  # the contract's spelling of a fitted estimate


def test_a_passed_calibration_is_used_and_named() -> None:
    model, gpu = deepfit.load_model("llama-3.1-8b"), deepfit.load_gpu("H100")
    base = deepfit.estimate_perf(model, gpu, input_len=1000, output_len=200)
    slow = deepfit.estimate_perf(
        model, gpu, input_len=1000, output_len=200, efficiency=Calibration(SLOW)
    )
    assert slow.provenance is Provenance.CALIBRATED
    assert slow.to_dict()["provenance"] == "calibrated"
    assert slow.tpot_s > 5 * base.tpot_s  # a 0.5 s step overhead alone is 5x a bf16 8B step


def test_cli_perf_applies_the_users_profile(tmp_path: Path) -> None:
    empty, calibrated = tmp_path / "empty", tmp_path / "calibrated"
    empty.mkdir()
    _write_profile(calibrated)
    args = ("perf", "llama-3.1-8b", "--gpu", "H100", "--input-len", "1000")
    args += ("--output-len", "200", "--json")
    plain = json.loads(_deepfit(empty, *args).stdout)
    mine = json.loads(_deepfit(calibrated, *args).stdout)
    assert plain["provenance"] == "fitted"
    assert mine["provenance"] == "calibrated"
    assert mine["tpot_s"] > plain["tpot_s"]
