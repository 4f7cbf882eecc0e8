"""Disaggregated prefill/decode: the KV transfer by hand, Little's law in both loads, the
InferenceX reader, and the launch scripts run by a real shell with stub commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from deepfit import api
from deepfit.errors import BadInputError
from deepfit.export.disagg import dynamo_vllm, sglang_pd
from deepfit.models.loader import model_from_config
from deepfit.perf.disagg import estimate_disagg
from deepfit.perf.disagg_pools import Pool, Serving
from deepfit.perf.groundtruth import Quantity, Skip
from deepfit.perf.groundtruth_disagg import parse_disagg_row, pools

LLAMA_8B = "meta-llama/llama-3.1-8b"
# Llama 3.1 8B: 32 layers x 8 KV heads x head dim 128, K and V, bf16 (2 bytes)
KV_BYTES_PER_TOKEN = 2 * 32 * 8 * 128 * 2
BASH = shutil.which("bash")


def _alpha(link: str) -> float:
    path = resources.files("deepfit.perf").joinpath("data").joinpath("serving_terms.json")
    return float(json.loads(path.read_text())["collectives"][link]["value"])


def _est(prefill: Pool, decode: Pool, **load: float) -> api.DisaggEstimate:
    return estimate_disagg(
        api.load_model(LLAMA_8B), prefill, decode, input_len=1000, output_len=200,
        engine="vllm", **load,  # type: ignore[arg-type]
    )  # fmt: skip


def test_kv_transfer_inside_one_node_by_hand() -> None:
    """1,000 prompt tokens x 131,072 B over one H100's NVLink: 900 GB/s both ways in the
    catalogue (gpus.csv), 450 GB/s one way, plus the NVLink alpha."""
    est = _est(Pool("H100", 1, 1), Pool("H100", 1, 1), rate=1.0)
    t = est.transfer
    assert t.request_bytes == 1000 * KV_BYTES_PER_TOKEN
    assert t.seconds == pytest.approx(_alpha("nvlink") + 1000 * KV_BYTES_PER_TOKEN / 450e9)


def test_kv_transfer_across_nodes_by_hand() -> None:
    """Ten GPUs do not fit one 8-GPU node: InfiniBand NDR, 400 Gb/s = 50 GB/s per GPU
    (networks.csv); TP2 on both sides, so each GPU moves half of the 8 KV heads."""
    est = _est(Pool("H100", 4, 2), Pool("H100", 1, 2), rate=1.0)
    t = est.transfer
    assert "NDR" in t.link.name
    half = 1000 * KV_BYTES_PER_TOKEN / 2
    assert t.per_gpu_bytes == half
    assert t.seconds == pytest.approx(_alpha("infiniband") + half / 50e9)


def test_open_loop_obeys_littles_law() -> None:
    """Sequences in decode = arrival rate x time each spends there (O - 1 steps)."""
    est = _est(Pool("H100", 1, 1), Pool("H100", 2, 1), rate=4.0)
    in_decode = est.decode_running_per_worker * est.decode.workers
    assert in_decode == pytest.approx(4.0 * 199 * est.tpot_s, rel=0.02)
    assert est.output_tokens_per_s == pytest.approx(4.0 * 200)


def test_closed_loop_obeys_littles_law() -> None:
    """C clients = throughput x (TTFT + (O - 1) TPOT) for a closed loop."""
    est = _est(Pool("H100", 1, 1), Pool("H100", 1, 1), concurrency=32)
    cycle = est.ttft_s + 199 * est.tpot_s
    assert est.requests_per_s * cycle == pytest.approx(32, rel=0.01)


def test_saturated_prefill_pool_has_unbounded_ttft_at_a_rate() -> None:
    est = _est(Pool("H100", 1, 1), Pool("H100", 1, 1), rate=1e4)
    assert est.ttft_s == float("inf")
    assert est.to_dict()["ttft_s"] is None  # JSON has no infinity
    assert est.bottleneck in ("prefill", "decode")


def test_bad_loads_are_bad_input() -> None:
    with pytest.raises(BadInputError):
        _est(Pool("H100", 1, 1), Pool("H100", 1, 1))
    with pytest.raises(BadInputError):
        _est(Pool("H100", 0, 1), Pool("H100", 1, 1), rate=1.0)


def test_pools_from_the_published_layout() -> None:
    pre, dec = pools("disagg prefill 1x(TP8 EP8 DPA) = 8 GPUs; decode 6x(TP8 EP1) = 48 GPUs")
    assert (pre.workers, pre.tp, pre.ep, pre.dp_attention) == (1, 8, 8, True)
    assert (dec.workers, dec.tp, dec.ep, dec.dp_attention) == (6, 8, 1, False)
    with pytest.raises(Skip):  # the notes: some entries say TP1 on 4-GPU workers
        pools("disagg prefill 1x(TP1 EP1 DPA) = 4 GPUs; decode 2x(TP1 EP1 DPA) = 8 GPUs")


def _row(**over: str) -> dict[str, str]:
    row = {
        "row_id": "IX9", "source": "s", "engine": "SGLang", "engine_version": "v0.5.9",
        "model": "deepseek-ai/DeepSeek-R1-0528", "hardware": "H200-SXM-141GB",
        "gpu_count": "56", "precision": "FP8", "input_len": "8192", "output_len": "1024",
        "concurrency": "64", "metric": "output_throughput_per_decode_gpu", "value": "100",
        "trust": "A", "disagg": "true", "spec_decoding": "none",
        "parallelism": "disagg prefill 1x(TP8 EP8 DPA) = 8 GPUs; decode 6x(TP8 EP8 DPA) = 48 GPUs",
    }  # fmt: skip
    row.update(over)
    return row


def test_reader_turns_per_decode_gpu_into_the_deployment() -> None:
    models = {"deepseek-ai/DeepSeek-R1-0528": "deepseek-ai/DeepSeek-R1"}
    item = parse_disagg_row(_row(), models)
    assert item.run.skip_reason is None
    assert item.run.quantity is Quantity.OUTPUT_TOKENS_PER_S
    assert item.run.value == 100 * 48  # per decode GPU x the 48 decode GPUs
    assert (item.run.input_len, item.run.output_len) == (round(8192 * 0.9), round(1024 * 0.9))
    mtp = parse_disagg_row(_row(spec_decoding="mtp"), models)
    assert mtp.run.skip_reason is not None and "MTP" in mtp.run.skip_reason


TINY = {
    "model_type": "llama",
    "hidden_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 512,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
}


def _stubs(tmp: Path) -> Path:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "python"
    stub.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "{tmp}/argv"\n')
    stub.chmod(0o755)
    return bin_dir


def _run(text: str, tmp: Path, bin_dir: Path) -> list[str]:
    (tmp / "argv").unlink(missing_ok=True)
    script = tmp / "run.sh"
    script.write_text(text)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin", "NODE_RANK": "0", "HEAD_IP": "10.0.0.1",
        "PREFILL_HOSTS": "10.0.0.2 10.0.0.3", "DECODE_HOSTS": "10.0.0.4",
    }  # fmt: skip
    done = subprocess.run([BASH or "bash", str(script)], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return (tmp / "argv").read_text().splitlines()


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_sglang_pd_scripts_run_with_every_word_quoted(tmp_path: Path) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    name = f"org/evil$(touch {trap}/p1);touch {trap}/p2 #"
    model = model_from_config(dict(TINY), name)
    serving = Serving(1000, 200, "sglang")
    exp = sglang_pd(model, Pool("H100", 2, 1), Pool("H100", 1, 2), serving, "nixl")
    bin_dir = _stubs(tmp_path)
    prefill = _run(exp.files["sglang-prefill.sh"], tmp_path, bin_dir)
    assert prefill[:2] == ["-m", "sglang.launch_server"]
    assert name in prefill  # the hostile id arrives verbatim, as one word
    i = prefill.index("--disaggregation-mode")
    assert prefill[i + 1] == "prefill"
    assert prefill[prefill.index("--disaggregation-transfer-backend") + 1] == "nixl"
    decode = _run(exp.files["sglang-decode.sh"], tmp_path, bin_dir)
    assert decode[decode.index("--disaggregation-mode") + 1] == "decode"
    assert decode[decode.index("--tp-size") + 1] == "2"
    router = _run(exp.files["sglang-router.sh"], tmp_path, bin_dir)
    assert router[:3] == ["-m", "sglang_router.launch_router", "--pd-disaggregation"]
    assert [router[i + 1] for i, w in enumerate(router) if w == "--prefill"] == [
        "http://10.0.0.2:30000",
        "http://10.0.0.3:30000",
    ]
    assert [router[i + 1] for i, w in enumerate(router) if w == "--decode"] == [
        "http://10.0.0.4:30001"
    ]
    assert not list(trap.iterdir())
    with pytest.raises(BadInputError):
        sglang_pd(model, Pool("H100", 1, 1), Pool("H100", 1, 1), serving, "carrier-pigeon")


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_dynamo_vllm_scripts_run(tmp_path: Path) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    name = f"org/evil`touch {trap}/p1`'; touch {trap}/p2; '"
    model = model_from_config(dict(TINY), name)
    exp = dynamo_vllm(model, Pool("H100", 1, 2), Pool("H100", 3, 1), Serving(1000, 200, "vllm"))
    bin_dir = _stubs(tmp_path)
    front = _run(exp.files["dynamo-frontend.sh"], tmp_path, bin_dir)
    assert front[:2] == ["-m", "dynamo.frontend"]
    for role, tp in (("prefill", "2"), ("decode", "1")):
        argv = _run(exp.files[f"dynamo-vllm-{role}.sh"], tmp_path, bin_dir)
        assert argv[:2] == ["-m", "dynamo.vllm"]
        assert argv[argv.index("--disaggregation-mode") + 1] == role
        assert argv[argv.index("--tensor-parallel-size") + 1] == tp
        assert "--port" not in argv and "--host" not in argv  # the frontend serves HTTP
        assert argv[argv.index("--model") + 1] == name
    assert not list(trap.iterdir())


def test_nvl72_keeps_wide_expert_parallelism_on_nvlink() -> None:
    """An NVL72 rack is one NVLink domain of 72 GPUs (gpus.csv: "72-GPU domain"): EP32 stays
    on NVLink there, while on 8-GPU H100 nodes it crosses InfiniBand."""
    from deepfit.memory.layout import Layout
    from deepfit.perf.comm import step_comm

    arch = api.load_model("deepseek-ai/DeepSeek-R1").arch
    layout = Layout(tp=32, ep=32, attention_dp=True)
    rack = step_comm(arch, api.load_gpu("GB200"), layout, range(arch.num_layers), 64)
    hgx = step_comm(arch, api.load_gpu("H100"), layout, range(arch.num_layers), 64)
    assert rack.remote == 0 and hgx.remote > 0
    assert rack.seconds < hgx.seconds
