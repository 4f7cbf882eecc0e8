"""The page in a real headless Chromium (Playwright driving Debian's chromium): DeepSeek-V3
on 8 x H200 shows the verdict and the CLI's numbers, the chart, the launch command and its
copy button; the offline report shows its plots with the network blocked. Screenshots are
saved under test-artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("DEEPFIT_ARTIFACTS", "test-artifacts"))
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from deepfit.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_page_matches_cli(server: str, browser: object) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context()  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(
        f"{server}/?model=deepseek-v3&gpu=H200&gpus=8&weights=fp8&context=32768"
        "&concurrency=1&input_len=2000&output_len=500"
    )
    page.wait_for_selector("#verdict.fits", timeout=60_000)
    # selectors, not script: the page's Content-Security-Policy forbids eval'd test code
    page.wait_for_selector("#command:not(:empty)", timeout=60_000)
    cli = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "deepfit",
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
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    assert page.text_content("#verdict") == "FITS"
    assert int(page.get_attribute("#numbers", "data-total") or 0) == cli["per_gpu"]["total_bytes"]
    assert page.locator("#memory-chart svg rect").count() >= 5
    assert "vllm serve" in (page.text_content("#command") or "")
    page.click("#copy")
    page.wait_for_selector("#copied:not(:empty)")
    page.screenshot(path=str(ARTIFACTS / "page.png"), full_page=True)
    page.click("#plan-run")
    page.wait_for_selector("#pareto svg circle", timeout=60_000)
    assert page.locator("#plan-table tr").count() >= 2
    page.screenshot(path=str(ARTIFACTS / "plan.png"), full_page=True)
    context.close()


def test_report_opens_offline(browser: object, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "report.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "deepfit",
            "report",
            "qwen2.5-7b",
            "--scenario",
            "chat",
            "--max-gpus",
            "4",
            "--out",
            str(out),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    context = browser.new_context(offline=True)  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    assert page.locator("svg.pareto circle").count() >= 1
    assert page.locator("svg.memory-bar rect").count() >= 5
    assert all(u.startswith("file:") for u in requests)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    context.close()
