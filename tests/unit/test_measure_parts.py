"""The measure package's pieces: lengths, statistics, /metrics, results files, monitor."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deepfit.errors import BadInputError
from deepfit.measure import Lengths, RequestRecord, level_stats, read_runs
from deepfit.measure.loadgen import base_url
from deepfit.measure.metrics import parse_prometheus, pick
from deepfit.measure.monitor import CpuSampler, open_nvml, samples, write_csv
from deepfit.measure.stats import percentile
from tests.unit.measure_helpers import cli


def test_lengths() -> None:
    rng = random.Random(0)
    assert Lengths.parse("64").sample(rng) == 64
    assert all(10 <= Lengths.parse("uniform:10:20").sample(rng) <= 20 for _ in range(50))
    assert Lengths.parse("normal:5:100").sample(rng) >= 1
    with pytest.raises(BadInputError):
        Lengths.parse("uniform:9:3")


def test_base_url() -> None:
    assert base_url("127.0.0.1:8000/v1/") == "http://127.0.0.1:8000"
    assert base_url("http://h/v1/chat/completions") == "http://h"


def test_stats() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    recs = [
        RequestRecord("r", i, "c=2", i * 1.0, True, None, 0.1, 1.1, (0.1,) * 10, 5, 11)
        for i in range(4)
    ]
    recs.append(RequestRecord("r", 9, "c=2", 0.0, False, "timeout after 1 s", e2e_s=1.0))
    st = level_stats("c=2", recs, wall_s=4.0)
    assert st.ok == 4 and st.errors == 1 and st.error_kinds == {"timeout after 1 s": 1}
    assert st.p("tpot_s") == pytest.approx(0.1)
    assert st.output_tokens_per_s == pytest.approx(11.0)


def test_prometheus() -> None:
    text = (
        '# HELP x\nvllm:num_requests_running{model_name="a",engine="0"} 3\n'
        'vllm:num_requests_running{model_name="a",engine="1"} 2\n'
        "sglang:token_usage 0.5\nbad line\nvllm:x NaN\n"
    )
    assert pick(parse_prometheus(text)) == {"running": 5.0, "kv_cache_usage": 0.5}


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text(
        '{"type":"run","run_id":"a","deployment":{}}\n'
        '{"type":"request","run_id":"a","index":0,"level":"c=1","start_s":0,"ok":true}\n'
        '{"type":"request","run_id":"a","ind'
    )
    (run,) = read_runs(p)
    assert len(run.requests) == 1


class _FakeNvml:
    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        return SimpleNamespace(used=1000 + h, total=8000)

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return b"NVIDIA H200"

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=50)

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        raise RuntimeError("not supported")


def test_monitor_with_nvml(tmp_path: Path) -> None:
    nvml = open_nvml(lambda name: _FakeNvml())
    assert not isinstance(nvml, str)
    buf = io.StringIO()
    n = write_csv(samples(nvml, 0.0, 2, None, predicted_bytes=123, sleep=lambda s: None), buf)
    lines = buf.getvalue().splitlines()
    assert n == 4 and lines[0].startswith("time_s,device,name,memory_used_bytes")
    assert ",1,NVIDIA H200,1001,8000,50.0,,123," in lines[2]


def test_monitor_without_driver() -> None:
    def no_module(name: str) -> Any:
        raise ImportError(name)

    class NoDriver(_FakeNvml):
        def nvmlInit(self) -> None:
            raise RuntimeError("NVML Shared Library Not Found")

    assert "nvidia-ml-py is not installed" in str(open_nvml(no_module))
    assert open_nvml(lambda n: NoDriver()) == (
        "no NVIDIA driver found (NVML: NVML Shared Library Not Found); CPU/RAM only"
    )


def test_cpu_sampler(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text("cpu  100 0 100 800 0 0 0 0 0 0\n")
    (tmp_path / "meminfo").write_text("MemTotal: 1000 kB\nMemAvailable: 400 kB\n")
    cpu = CpuSampler(tmp_path)
    (tmp_path / "stat").write_text("cpu  150 0 150 900 0 0 0 0 0 0\n")
    assert cpu.cpu_percent() == pytest.approx(50.0)
    assert cpu.ram() == (600 * 1024, 1000 * 1024)


def test_monitor_cli_on_this_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.csv"
    assert (
        cli(
            [
                "monitor",
                "--samples",
                "2",
                "--interval",
                "0.05",
                "-o",
                str(out),
                "--model",
                "llama-3.1-8b",
                "--gpu",
                "H100",
            ]
        )
        == 0
    )
    rows = out.read_text().splitlines()
    assert len(rows) >= 3 and rows[1].split(",")[7].isdigit()  # predicted memory column
    assert capsys.readouterr().err.count("\n") <= 2  # one line about NVML, one summary


def test_core_does_not_import_measure() -> None:
    code = (
        "import sys, deepfit; deepfit.estimate_perf; import deepfit.perf, deepfit.memory;"
        "print(any(m.startswith('deepfit.measure') or m == 'httpx' for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert out.stdout.strip() == "False"
