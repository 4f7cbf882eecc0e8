"""The web API over every endpoint (FastAPI's TestClient): same numbers as the CLI's JSON,
bad input -> 4xx with a message."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from deepfit.web.app import create_app

CLIENT = TestClient(create_app(), base_url="http://127.0.0.1")


def cli_json(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "deepfit", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_catalogues() -> None:
    assert any(
        m["id"] == "deepseek-ai/DeepSeek-V3" for m in CLIENT.get("/api/models").json()["models"]
    )
    assert any(g["name"] == "H200 SXM" for g in CLIENT.get("/api/gpus").json()["gpus"])
    assert (
        CLIENT.get("/api/info", params={"model": "deepseek-236b"}).json()["params_total"]
        == 235_741_434_880
    )


def test_memory_equals_cli() -> None:
    web = CLIENT.get(
        "/api/memory",
        params={
            "model": "deepseek-v3",
            "gpu": "H200",
            "gpus": 8,
            "weights": "fp8",
            "context": 32768,
        },
    ).json()
    cli = cli_json(
        "memory",
        "deepseek-v3",
        "--gpu",
        "H200",
        "--gpus",
        "8",
        "--weights",
        "fp8",
        "--context",
        "32768",
    )
    assert web["per_gpu"] == cli["per_gpu"] and web["fits"] == cli["fits"]
    assert "<svg" in web["chart_svg"]


def test_perf_and_matrix_equal_cli() -> None:
    params = {
        "model": "llama-3.1-8b",
        "gpu": "H100",
        "input_len": 512,
        "output_len": 128,
        "concurrency": "16",
    }
    web = CLIENT.get("/api/perf", params=params).json()
    cli = cli_json(
        "perf",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--input-len",
        "512",
        "--output-len",
        "128",
        "--concurrency",
        "16",
    )
    assert web["tpot_s"] == cli["tpot_s"] and web["ttft_s"] == cli["ttft_s"]
    rows = CLIENT.get("/api/matrix", params=params).json()["matrix"]
    assert {r["weights"] for r in rows} >= {"bf16", "fp8"}


def test_plan_and_train() -> None:
    plan = CLIENT.get(
        "/api/plan", params={"model": "qwen2.5-7b", "ttft_s": 1, "tpot_s": 0.05, "max_gpus": 4}
    ).json()
    assert plan["plans"] and all(p["tpot_s"] <= 0.05 for p in plan["plans"])
    assert "<svg" in plan["chart_svg"]
    train = CLIENT.get(
        "/api/train", params={"model": "deepseek-7b", "gpu": "A100-80GB", "gpus": 8}
    ).json()
    assert {"per_gpu", "fits", "tokens_per_s"} <= set(train)


def test_pasted_config() -> None:
    cfg = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
    }
    r = CLIENT.post("/api/memory", json={"config": cfg, "gpu": "L4"})
    assert r.status_code == 200 and r.json()["fits"]
    bad = CLIENT.post("/api/memory", json={"config": dict(cfg, hidden_size=-1), "gpu": "L4"})
    assert bad.status_code == 400 and "hidden_size" in bad.json()["error"]


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/memory", {"model": "nope", "gpu": "H100"}),
        ("/api/memory", {"model": "deepseek-v3", "gpu": "H1000"}),
        ("/api/memory", {"model": "deepseek-v3", "gpu": "H100", "gpus": 0}),
        ("/api/memory", {"model": "deepseek-v3", "gpu": "H100", "context": 10**9}),
        (
            "/api/perf",
            {
                "model": "deepseek-v3",
                "gpu": "H100",
                "input_len": 10,
                "output_len": 10,
                "concurrency": "lots",
            },
        ),
        ("/api/plan", {"model": "deepseek-v3", "objective": "speed"}),
        ("/api/plan", {"model": "deepseek-v3", "max_gpus": 1000}),
        ("/api/train", {"model": "deepseek-7b", "gpu": "H100", "method": "rlhf"}),
        ("/api/info", {"model": ""}),
    ],
)
def test_bad_input_is_4xx_with_a_message(path: str, params: dict[str, object]) -> None:
    r = CLIENT.get(path, params=params)
    assert 400 <= r.status_code < 500
    body = r.json()
    assert body.get("error") or body.get("detail")


def test_body_size_limit() -> None:
    r = CLIENT.post(
        "/api/memory",
        content=b"{" + b" " * (2 << 20) + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_openapi_schema_lists_every_endpoint() -> None:
    paths = set(CLIENT.get("/openapi.json").json()["paths"])
    assert {
        "/api/models",
        "/api/gpus",
        "/api/memory",
        "/api/perf",
        "/api/matrix",
        "/api/plan",
        "/api/train",
    } <= paths
