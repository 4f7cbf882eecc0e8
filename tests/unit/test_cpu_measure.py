"""Unit tests for deepfit.hardware.cpu_measure and its use by probe_cpu.

Timing is never asserted beyond plausibility: a 2-core VM and a 64-core server both pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from deepfit.errors import BadInputError
from deepfit.hardware import NOT_SUPPORTED, UNKNOWN, load_gpu, probe_cpu
from deepfit.hardware import cpu_measure as cm
from deepfit.hardware.cpu_measure import CpuMeasurement

ENV_VARS = ("DEEPFIT_CPU_BANDWIDTH_GBPS", "DEEPFIT_CPU_GFLOPS", "DEEPFIT_MEASURE_CPU")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty cache folder and no user overrides."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("DEEPFIT_CACHE_DIR", str(folder))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return folder


def _fake(bandwidth: float = 42e9, fp32: float = 321e9) -> CpuMeasurement:
    return CpuMeasurement(
        cpu_model="Test CPU",
        logical_cores=2,
        stream_bandwidth_bytes_per_s=bandwidth,
        copy_bandwidth_bytes_per_s=bandwidth * 0.8,
        matmul_flops_per_s={"fp32": fp32},
        threads=2,
        blas_threads=None,
        array_bytes=256 * 2**20,
        matmul_size=1024,
        last_level_cache_bytes=32 * 2**20,
        numpy_version="9.9.9",
        blas="testblas 1.0",
        torch_version=None,
        measured_at="2025-01-02T03:04:05+00:00",
        seconds=2.0,
        notes=("a note",),
    )


@pytest.fixture(scope="module")
def measured() -> CpuMeasurement:
    pytest.importorskip("numpy")
    return cm.measure_cpu(seconds=0.2)


def test_short_measurement_is_plausible(measured: CpuMeasurement) -> None:
    assert 1e8 < measured.stream_bandwidth_bytes_per_s < 1e13
    assert 1e8 < measured.copy_bandwidth_bytes_per_s < 1e13
    assert 1e8 < measured.matmul_flops_per_s["fp32"] < 1e14
    assert "bf16" not in measured.matmul_flops_per_s  # numpy cannot do it natively
    assert measured.threads >= 1
    assert measured.array_bytes <= 512 * 2**20
    assert measured.numpy_version == sys.modules["numpy"].__version__
    assert measured.date == measured.measured_at[:10]


def test_measurement_round_trips_through_json(measured: CpuMeasurement) -> None:
    data = json.loads(json.dumps(measured.to_dict()))
    assert CpuMeasurement.from_dict(data) == measured


@pytest.mark.parametrize(
    "change",
    [
        {"stream_bandwidth_bytes_per_s": -1},
        {"stream_bandwidth_bytes_per_s": "fast"},
        {"matmul_flops_per_s": {"fp64": 1e9}},
        {"threads": True},
        {"cpu_model": None},
    ],
)
def test_from_dict_rejects_bad_values(change: dict[str, object]) -> None:
    with pytest.raises(BadInputError):
        CpuMeasurement.from_dict({**_fake().to_dict(), **change})
    with pytest.raises(BadInputError, match="lacks"):
        CpuMeasurement.from_dict({"cpu_model": "x"})


def test_cache_round_trip(_isolated_cache: Path) -> None:
    assert cm.cached_measurement(measure_if_missing=False) is None
    path = cm.save_measurement(_fake())
    assert path == _isolated_cache / "cpu.json"
    assert cm.cached_measurement(measure_if_missing=False) == _fake()
    assert list(_isolated_cache.iterdir()) == [path]  # the temp file was renamed away
    assert cm.cache_key() in json.loads(path.read_text())["machines"]


def test_cache_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEEPFIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cm.cache_path() == tmp_path / "deepfit" / "cpu.json"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cm.cache_path() == Path.home() / ".cache" / "deepfit" / "cpu.json"


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"format": 1, "machines": []}',
        '{"format": 99, "machines": {}}',
        "\xff\xfe garbage",
    ],
)
def test_corrupt_cache_is_ignored_and_remeasured(
    text: str, _isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _isolated_cache.mkdir()
    (_isolated_cache / "cpu.json").write_text(text, encoding="utf-8")
    assert cm.cached_measurement(measure_if_missing=False) is None
    monkeypatch.setattr(cm, "measure_cpu", lambda seconds=2.0: _fake())
    assert cm.cached_measurement(measure_if_missing=True) == _fake()
    assert cm.cached_measurement(measure_if_missing=False) == _fake()


def test_corrupt_entry_is_ignored(_isolated_cache: Path) -> None:
    _isolated_cache.mkdir()
    entry = {**_fake().to_dict(), "stream_bandwidth_bytes_per_s": None}
    data = {"format": 1, "machines": {cm.cache_key(): entry}}
    (_isolated_cache / "cpu.json").write_text(json.dumps(data))
    assert cm.cached_measurement(measure_if_missing=False) is None


def test_unwritable_cache_still_returns_the_measurement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DEEPFIT_CACHE_DIR", str(blocker / "sub"))
    assert cm.save_measurement(_fake()) is None
    monkeypatch.setattr(cm, "measure_cpu", lambda seconds=2.0: _fake())
    assert cm.cached_measurement(measure_if_missing=True) == _fake()


def test_probe_uses_the_cache() -> None:
    assert probe_cpu().mem_bandwidth_bytes_per_s is UNKNOWN
    cm.save_measurement(_fake())
    for cpu in (probe_cpu(), load_gpu("cpu")):
        assert cpu.require_mem_bandwidth_bytes_per_s() == 42e9
        assert cpu.peak_flops("fp32") == 321e9
        # only measured formats get a number; 16-bit floats without one run as fp32
        assert cpu.peak_ops_per_s.bf16 is NOT_SUPPORTED
        assert cpu.peak_ops_per_s.int8 is UNKNOWN
        assert "computed as fp32 (upcast)" in cpu.notes
        assert "measured on this machine 2025-01-02 (numpy 9.9.9, 2 threads)" in cpu.source
        assert "1024x1024 matmul" in cpu.notes
        assert "a note" in cpu.notes


def test_environment_overrides_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    cm.save_measurement(_fake())
    monkeypatch.setenv("DEEPFIT_CPU_GFLOPS", "1000")
    cpu = load_gpu("cpu")
    assert cpu.peak_flops("fp32") == pytest.approx(1e12)
    assert cpu.peak_flops("bf16") == pytest.approx(1e12)
    assert cpu.require_mem_bandwidth_bytes_per_s() == 42e9  # still from the cache
    monkeypatch.setenv("DEEPFIT_CPU_BANDWIDTH_GBPS", "7")
    cpu = probe_cpu()
    assert cpu.require_mem_bandwidth_bytes_per_s() == pytest.approx(7e9)
    assert "measured on this machine" not in cpu.source


def test_probe_measures_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    def fake_measure(seconds: float = 2.0) -> CpuMeasurement:
        calls.append(seconds)
        return _fake()

    monkeypatch.setattr(cm, "measure_cpu", fake_measure)
    assert load_gpu("cpu").mem_bandwidth_bytes_per_s is UNKNOWN
    assert calls == []
    monkeypatch.setenv("DEEPFIT_MEASURE_CPU", "1")
    assert load_gpu("cpu").require_mem_bandwidth_bytes_per_s() == 42e9
    assert load_gpu("cpu").peak_flops("fp32") == 321e9  # second call reads the cache
    assert len(calls) == 1
    monkeypatch.delenv("DEEPFIT_MEASURE_CPU")
    cm.cache_path().unlink()
    assert probe_cpu(measure=True).peak_flops("fp32") == 321e9
    assert len(calls) == 2


def test_missing_numpy_is_a_bad_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # makes `import numpy` fail
    with pytest.raises(BadInputError) as err:
        cm.measure_cpu(seconds=0.1)
    assert "deepfit[measure]" in err.value.hint
    with pytest.raises(BadInputError, match="numpy"):
        probe_cpu(measure=True)
    assert probe_cpu().mem_bandwidth_bytes_per_s is UNKNOWN  # no measuring, no numpy needed


def test_seconds_must_be_positive() -> None:
    with pytest.raises(BadInputError):
        cm.measure_cpu(seconds=0)


def _cli_cpu(cache: Path) -> subprocess.CompletedProcess[str]:
    args = ["memory", "qwen2.5-7b", "--gpu", "cpu", "--engine", "llamacpp", "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPFIT_CPU_")}
    return subprocess.run(
        [sys.executable, "-m", "deepfit", *args],
        capture_output=True,
        text=True,
        env={**env, "DEEPFIT_CACHE_DIR": str(cache)},
        timeout=120,
    )


def test_gpu_cpu_measures_on_first_use_and_keeps_the_noise(tmp_path: Path) -> None:
    pytest.importorskip("numpy")
    first = _cli_cpu(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "measuring this machine's memory bandwidth" in first.stderr
    assert "repeats within" in first.stderr
    json.loads(first.stdout)  # stdout stays the answer
    entry = next(iter(json.loads((tmp_path / cm.CACHE_FILE).read_text())["machines"].values()))
    assert set(entry["spread"]) >= {"read_bandwidth", "fp32_matmul"}
    assert all(v >= 0 for v in entry["spread"].values())
    again = _cli_cpu(tmp_path)
    assert again.returncode == 0 and "measuring" not in again.stderr


def test_a_busy_measurement_warns_on_every_use_and_says_how_to_redo_it(tmp_path: Path) -> None:
    busy = replace(_fake(), notes=("the machine was busy (1-minute load average 3.0 on 2 cores)",))
    cm.save_measurement(busy, environ={"DEEPFIT_CACHE_DIR": str(tmp_path)})
    # the cache is keyed by this machine: rewrite the key the CLI will look up
    path = tmp_path / cm.CACHE_FILE
    data = json.loads(path.read_text())
    data["machines"] = {cm.cache_key(): next(iter(data["machines"].values()))}
    path.write_text(json.dumps(data))
    out = _cli_cpu(tmp_path)
    assert out.returncode == 0, out.stderr
    assert "measured when the machine was busy" in out.stderr
    assert f"delete {path}" in out.stderr and "measuring" not in out.stderr
