"""The page's one-request answer (/api/answer, /api/compare), its static files and the report:
each panel agrees with the CLI's JSON and with the other panels, and the defects the page
had (a green verdict past the model's context, negative memory, a launch command at
concurrency 1, a placeholder path for DeepSeek-V3's own fp8) stay fixed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from deepfit.web.app import create_app
from deepfit.web.report import render_report

CLIENT = TestClient(create_app())
V3: dict[str, Any] = {
    "model": "deepseek-v3",
    "gpu": "H200",
    "gpus": 8,
    "weights": "fp8",
    "context": 32768,
}


def cli_json(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "deepfit", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def ask(**params: Any) -> dict[str, Any]:
    r = CLIENT.get("/api/answer", params=params)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def bundled_config(file: str) -> dict[str, Any]:
    """A bundled config.json, read directly (not through deepfit's loader)."""
    entry = (
        resources.files("deepfit.models")
        .joinpath("data")
        .joinpath("configs")
        .joinpath(file + ".json")
    )
    data: dict[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
    return data


def test_answer_equals_the_cli_and_launches_what_fits() -> None:
    a = ask(**V3, input_len=2000, output_len=500, concurrency="1")
    mem = cli_json(
        "memory", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "--weights", "fp8",
        "--context", "32768",
    )  # fmt: skip
    perf = cli_json(
        "perf", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "--weights", "fp8",
        "--input-len", "2000", "--output-len", "500",
    )  # fmt: skip
    export = cli_json(
        "export", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "--weights", "fp8",
        "--context", "32768",
    )  # fmt: skip
    assert a["memory"]["per_gpu"] == mem["per_gpu"]
    assert a["memory"]["max_concurrency"] == mem["max_concurrency"]
    assert a["verdict"]["status"] == "fits" and mem["fits"]
    assert (a["perf"]["ttft_s"], a["perf"]["tpot_s"]) == (perf["ttft_s"], perf["tpot_s"])
    # the launch command admits what fits, not the speed panel's one request
    assert a["launch"]["concurrency"] == mem["max_concurrency"] > 1
    assert f"--max-num-seqs {mem['max_concurrency']}" in a["launch"]["command"]
    assert a["launch"]["command"] == export["files"][export["main_file"]]
    # DeepSeek-V3's checkpoint is fp8: its own Hub id, in the page and in the CLI
    assert a["launch"]["model_path"] == "deepseek-ai/DeepSeek-V3"
    assert export["settings"]["model_path"] == "deepseek-ai/DeepSeek-V3"
    assert not export["settings"]["model_path_is_placeholder"]
    fp8 = next(r for r in a["matrix"] if r["weights"] == "fp8")
    assert fp8["weights_bytes"] == mem["per_gpu"]["weights_bytes"]
    assert fp8["max_concurrency"] == mem["max_concurrency"]


def test_verdict_counts_the_models_context_limit() -> None:
    limit = bundled_config("deepseek-ai--deepseek-llm-7b-base")["max_position_embeddings"]
    a = ask(model="deepseek-7b", gpu="H100", context=10240)
    assert limit == 4096
    assert a["verdict"]["status"] == "context" and not a["verdict"]["fits"]
    assert a["verdict"]["model_max_context_tokens"] == limit
    assert "--context 4096" in a["launch"]["hint"]
    assert all(not r["fits"] for r in a["matrix"] if r["supported"])


def test_matrix_uses_the_same_context_as_the_verdict() -> None:
    a = ask(model="llama-3.1-8b", gpu="H100", context=131072, concurrency="4")
    row = next(r for r in a["matrix"] if r["weights"] == a["deployment"]["weights"])
    assert row["fits"] == a["verdict"]["fits"]
    assert row["max_concurrency"] == a["memory"]["max_concurrency"]


def test_no_negative_memory_and_no_speed_when_it_cannot_load() -> None:
    a = ask(model="deepseek-v3", gpu="RTX 4090", gpus=1)
    per = a["memory"]["per_gpu"]
    assert a["verdict"]["status"] == "no_load"
    assert all(v >= 0 for v in per.values())
    assert a["memory"]["kv_cache_raw_bytes"] <= 0  # no room left for a KV cache
    # the weights alone exceed the card by at least this much
    assert a["memory"]["shortfall_bytes"] >= per["weights_bytes"] - a["memory"]["gpu_memory_bytes"]
    assert a["perf"] is None and a["perf_note"]
    assert "-" not in a["chart_svg"].split("GiB")[0].rsplit(">", 1)[-1]
    assert "error" in a["launch"]


def test_sglang_memory_and_command_agree_on_dp_attention() -> None:
    a = ask(model="deepseek-v3", gpu="H200", gpus=8, context=32768, engine="sglang")
    assert a["deployment"]["dp_attention"]
    assert a["launch"]["concurrency"] == a["memory"]["max_concurrency"]
    assert "--enable-dp-attention" in a["launch"]["command"]


@pytest.mark.parametrize("gpu, fmt", [("RTX 4090", "nvfp4"), ("RTX 3090", "awq-int4")])
def test_matrix_and_planner_agree_on_formats(gpu: str, fmt: str) -> None:
    a = ask(model="llama-3.1-8b", gpu=gpu, context=8192)
    row = next(r for r in a["matrix"] if r["weights"] == fmt)
    plan = CLIENT.get(
        "/api/plan", params={"model": "llama-3.1-8b", "gpu": gpu, "max_gpus": 1}
    ).json()
    planned = {p["weights"] for p in plan["plans"]} | {p["weights"] for p in plan["pareto"]}
    rejected = [r for r in plan["rejected"] if r["kind"] == "unsupported" and fmt in r["candidate"]]
    assert row["supported"] == (not rejected)
    assert not row["supported"] or fmt in planned or not rejected
    assert fmt not in planned or row["supported"]


def test_llamacpp_shows_the_cpu_gpu_split() -> None:
    a = ask(model="deepseek-r1", gpu="RTX 4090", engine="llamacpp", context=8192)
    cli = cli_json(
        "memory", "deepseek-r1", "--gpu", "RTX 4090", "--engine", "llamacpp", "--context", "8192"
    )
    assert a["offload"] == cli["llamacpp_offload"]
    layers = bundled_config("deepseek-ai--DeepSeek-R1")["num_hidden_layers"]
    dense, experts_out = a["offload"]
    assert dense["num_layers"] == experts_out["num_layers"] == layers
    assert 0 < dense["n_gpu_layers"] <= experts_out["n_gpu_layers"] <= layers + 1
    for plan in a["offload"]:
        assert plan["host_bytes"] > 0 and plan["gpu_bytes"] <= plan["gpu_memory_bytes"]


def test_compare_gpus_side_by_side() -> None:
    r = CLIENT.get(
        "/api/compare",
        params=[
            ("model", "llama-3.1-8b"),
            ("gpu", "H100"),
            ("gpu", "RTX 4090"),
            ("gpu", "nope"),
            ("context", "8192"),
        ],
    ).json()
    rows = {row["gpu"]: row for row in r["rows"]}
    assert rows["H100 SXM"]["status"] == "fits"
    cli = cli_json("memory", "llama-3.1-8b", "--gpu", "RTX 4090", "--context", "8192")
    assert rows[next(g for g in rows if "4090" in g)]["max_concurrency"] == cli["max_concurrency"]
    assert "error" in rows["nope"]


def test_pasted_config_and_bad_input() -> None:
    cfg = bundled_config("Qwen--Qwen2.5-0.5B")
    r = CLIENT.post("/api/answer", json={"config": cfg, "gpu": "L4", "concurrency": "max"})
    assert r.status_code == 200 and r.json()["verdict"]["loads"]
    bad = CLIENT.get("/api/answer", params={**V3, "concurrency": "lots"})
    assert bad.status_code == 400 and "concurrency" in bad.json()["error"]
    assert CLIENT.get("/api/answer", params={**V3, "lang": "fr"}).status_code == 422


def test_static_files_favicon_and_gzip() -> None:
    page = CLIENT.get("/").text
    assert "<script>" not in page and "<style>" not in page  # no inline code (CSP)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) > 20
    labelled = set(
        re.findall(
            r'<label[^>]*>\s*<span[^>]*>[^<]*</span>\s*<(?:input|select|textarea) id="([^"]+)"',
            page,
        )
    )
    controls = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page))
    assert controls - labelled <= {"live", "config-file"}  # those two are labelled otherwise
    for name in ("app.js", "i18n.js", "app.css"):
        r = CLIENT.get(f"/static/{name}", headers={"accept-encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert f"/static/{name}" in page
    assert CLIENT.get("/favicon.ico").headers["content-type"].startswith("image/svg")
    assert CLIENT.get("/static/../app.py").status_code == 404
    assert CLIENT.get("/static/nope.js").status_code == 404
    choices = CLIENT.get("/api/choices").json()
    assert "fp8" in choices["weights"] and "fp8" in choices["kv_dtypes"]


def _plan(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = CLIENT.get(
        "/api/plan", params={"model": "qwen2.5-7b", "max_gpus": 4, **extra}
    ).json()
    return data


def test_report_has_no_none_groups_rejections_and_speaks_chinese() -> None:
    plan = _plan(ttft_s=0.5, tpot_s=0.03)
    html = render_report(plan, None, None, None)
    assert "None" not in html
    kinds = {r["kind"] for r in plan["rejected"]}
    assert html.count("<details>") == len(kinds) >= 1
    assert html.count("<li>") <= 6 * len(kinds)
    assert "width=device-width" in html and "overflow-x:auto" in html
    zh = render_report(_plan(lang="zh-CN"), None, None, None, "zh-CN")
    assert "lang='zh-CN'" in zh and "最佳部署方案" in zh and "None" not in zh
    assert "帕累托前沿" in _plan(lang="zh-CN")["chart_svg"]
