"""The engine registry: a new engine is one folder (tests/fixtures/engines/fakeserve), and
memory, performance and export work for it with no edit anywhere else."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import deepfit
from deepfit.engines import add_engine_folder, engine_names, load_engine, remove_engine_folder
from deepfit.errors import CatalogError, NotSupportedError, UnknownEngineError
from deepfit.export import ExportRequest, export_config
from deepfit.units import GiB

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "engines" / "fakeserve"
ROOT = Path(__file__).resolve().parents[2]

# Qwen2.5-0.5B (config.json): 24 layers, 2 KV heads of 64 dims (896 / 14 heads), bf16.
QWEN_KV_BYTES_PER_TOKEN = 2 * 24 * 2 * 64 * 2  # K and V, layers, KV heads, head dim, bytes
QWEN_PARAMS = 494_032_768  # Hugging Face model card / safetensors index, tied embeddings
H100_VISIBLE = int(80 * GiB * 0.99)  # 80 GB HBM3, CUDA reports ~1% less (memory/device.py)


@pytest.fixture
def fake() -> Iterator[str]:
    add_engine_folder(FAKE)
    yield "fakeserve"
    remove_engine_folder("fakeserve")


def test_packaged_engines_are_discovered() -> None:
    names = engine_names()
    for name in ("vllm", "sglang", "trtllm", "trtllm-cpp", "llamacpp", "transformers"):
        assert name in names
    assert load_engine("llama.cpp").name == "llamacpp"
    assert load_engine("TensorRT-LLM").name == "trtllm"


def test_unknown_engine_is_one_clear_error() -> None:
    with pytest.raises(UnknownEngineError) as err:
        load_engine("vllmm")
    assert "vllm" in err.value.hint
    model, gpu = deepfit.load_model("qwen2.5-0.5b"), deepfit.load_gpu("H100")
    with pytest.raises(UnknownEngineError):
        deepfit.estimate_memory(model, gpu, engine="nope")


NOPE = ("--engine", "nope", "--json")


def test_unknown_engine_exits_2_with_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "deepfit", "memory", "qwen2.5-0.5b", "--gpu", "H100", *NOPE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unknown engine 'nope'" in proc.stderr


def test_fake_engine_memory_follows_its_data(fake: str) -> None:
    model, gpu = deepfit.load_model("qwen2.5-0.5b"), deepfit.load_gpu("H100")
    est = deepfit.estimate_memory(model, gpu, engine=fake, context=4096, weights="bf16")
    weights = QWEN_PARAMS * 2
    # fraction_of_total with its default 0.5: budget - weights - activations - non-torch
    pool = int(H100_VISIBLE * 0.5) - weights - 512 * 2**20 - 1 * GiB
    assert est.engine == "fakeserve"
    assert est.memory_fraction == 0.5
    assert est.per_gpu.weights == weights
    assert est.per_gpu.kv_cache == pool
    assert est.kv_capacity_tokens == pool // QWEN_KV_BYTES_PER_TOKEN  # block of 1 token
    assert est.fits


def test_fake_engine_perf_uses_its_caps_and_the_roofline_defaults(fake: str) -> None:
    model, gpu = deepfit.load_model("qwen2.5-0.5b"), deepfit.load_gpu("H100")
    est = deepfit.estimate_perf(
        model, gpu, engine=fake, input_len=512, output_len=128, concurrency="max"
    )
    assert est.concurrency == 7  # its max_num_seqs, far below what its KV pool holds
    assert est.source == "roofline"  # no fit of its own: engines/defaults.json applies
    defaults = json.loads((ROOT / "src/deepfit/engines/defaults.json").read_text())
    eff = deepfit.perf.load_efficiency(fake)
    assert eff.bandwidth == defaults["efficiency"]["bandwidth_efficiency"]
    assert eff.step_overhead_s == defaults["efficiency"]["step_overhead_s"]


def test_fake_engine_exports_with_its_own_flags(fake: str) -> None:
    model, gpu = deepfit.load_model("qwen2.5-0.5b"), deepfit.load_gpu("H100")
    exp = export_config(model, gpu, ExportRequest(engine=fake, context=4096, kv_dtype="fp8"))
    assert exp.argv[:2] == ("fakeserve", "Qwen/Qwen2.5-0.5B")
    assert exp.argv[exp.argv.index("--mem") + 1] == "0.5"
    assert exp.argv[exp.argv.index("--kv") + 1] == "f8"
    assert exp.argv[exp.argv.index("--max-len") + 1] == "4096"
    with pytest.raises(NotSupportedError):  # it loads 16-bit weights only
        export_config(model, gpu, ExportRequest(engine=fake, weights="awq-int4"))
    with pytest.raises(NotSupportedError):  # and offers no Kubernetes target
        export_config(model, gpu, ExportRequest(engine=fake, target="kubernetes"))


def test_removed_engine_is_unknown_again(fake: str) -> None:
    remove_engine_folder(fake)
    with pytest.raises(UnknownEngineError):
        load_engine(fake)


def test_budget_engine_without_a_fraction_is_a_catalogue_error(tmp_path: Path) -> None:
    data = json.loads((FAKE / "engine.json").read_text())
    data["name"] = "fakebroken"
    del data["memory"]["memory_fraction_default"]
    (tmp_path / "engine.json").write_text(json.dumps(data))
    try:
        with pytest.raises(CatalogError, match="memory fraction"):
            add_engine_folder(tmp_path)
    finally:
        remove_engine_folder("fakebroken")


def test_missing_field_names_the_file_and_field(tmp_path: Path) -> None:
    data = json.loads((FAKE / "engine.json").read_text())
    data["name"] = "fakebroken"
    del data["memory"]["block_tokens"]
    (tmp_path / "engine.json").write_text(json.dumps(data))
    try:
        with pytest.raises(CatalogError, match="block_tokens"):
            add_engine_folder(tmp_path)
    finally:
        remove_engine_folder("fakebroken")


def test_fake_engine_plans_within_its_caps(fake: str) -> None:
    from deepfit.planner import SearchSpace, Targets, search

    space = SearchSpace(
        gpus=["H100"], max_gpus=1, formats=("bf16",), kv_dtypes=("bf16",), engine=fake
    )
    result = search(deepfit.load_model("qwen2.5-0.5b"), Targets(512, 128), space)
    assert result.plans
    assert all(p.concurrency <= 7 for p in result.plans)  # its max_num_seqs, one replica
