"""Fuzzing every parser deepfit exposes to strangers' input (seeded, bounded): model configs
(tests/unit/test_config_errors.py), hardware and price files, and the command line. The
result is always a clear error (exit code 2 / BadInputError) or a correct answer; never a
traceback. A longer run: python tools/fuzz_long.py."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepfit.cli.main import main
from deepfit.errors import BadInputError
from deepfit.hardware import load_gpu_catalog
from deepfit.planner.cost import read_prices

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GPU_HEADER = (
    "name,deepfit_alias,vendor,memory_gb,memory_type,mem_bandwidth_gbps,fp32_tflops,"
    "tf32_tflops_dense,bf16_tflops_dense,fp16_tflops_dense,fp8_tflops_dense,"
    "int8_tops_dense,fp4_tflops_dense,int4_tops_dense,dense_derived_by_halving_sparse,"
    "interconnect,interconnect_bidir_gbps,form_factor,tdp_w,launch_year,source,"
    "fields_not_from_source,notes"
)
cells = st.one_of(
    st.just(""),
    st.just("n/a"),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**12), 10**12).map(str),
)


@FUZZ
@given(st.lists(st.lists(cells, min_size=0, max_size=25), max_size=4), st.booleans())
def test_user_gpu_csv(tmp_path_factory: object, rows: list[list[str]], header: bool) -> None:
    path = Path(str(tmp_path_factory.mktemp("gpu"))) / "gpus.csv"  # type: ignore[attr-defined]
    lines = ([GPU_HEADER] if header else []) + [
        ",".join(c.replace(",", " ").replace("\n", " ") for c in r) for r in rows
    ]
    path.write_text("\n".join(lines))
    try:
        catalog = load_gpu_catalog(path, include_bundled=False)
    except BadInputError:
        return
    for gpu in catalog.gpus:
        gpu.to_dict()


@FUZZ
@given(st.text(max_size=400))
def test_prices_file(tmp_path_factory: object, text: str) -> None:
    path = Path(str(tmp_path_factory.mktemp("prices"))) / "prices.csv"  # type: ignore[attr-defined]
    path.write_text("gpu,usd_per_gpu_hour\n" + text)
    try:
        prices = read_prices(path)
    except BadInputError:
        return
    assert all(0 < p.usd_per_gpu_hour < 1e4 for p in prices.values())


COMMANDS = ["models", "gpus", "info", "memory", "perf"]
MODELS = ["deepseek-v3", "qwen2.5-7b", "mixtral", "nope", "", "../../etc/passwd", "a/b"]
FLAGS = [
    "--gpu",
    "--gpus",
    "--weights",
    "--kv-dtype",
    "--tp",
    "--pp",
    "--ep",
    "--context",
    "--batch",
    "--engine",
    "--gpu-memory-utilization",
    "--input-len",
    "--output-len",
    "--concurrency",
    "--json",
    "--prefix-hit-rate",
    "--dp-attention",
    "--spec-tokens",
]
values = st.one_of(
    st.sampled_from(
        [
            "H100",
            "L4",
            "cpu",
            "fp8",
            "bf16",
            "gguf-q4_k_m",
            "max",
            "vllm",
            "llamacpp",
            "0",
            "1",
            "8",
            "-3",
            "1e9",
            "nan",
            "0.5",
            "",
            "x" * 50,
        ]
    ),
    st.integers(-5, 1 << 40).map(str),
    st.text(max_size=8),
)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(
    st.sampled_from(COMMANDS),
    st.sampled_from(MODELS),
    st.lists(st.tuples(st.sampled_from(FLAGS), values), max_size=6),
)
def test_cli_arguments(command: str, model: str, flags: list[tuple[str, str]]) -> None:
    argv = [command] + ([model] if command not in ("models", "gpus") else [])
    for flag, value in flags:
        argv += [flag] if flag in ("--json", "--dp-attention") else [flag, value]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 2), (argv, err.getvalue())
    if code == 2:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("deepfit: error:"), (argv, lines)
