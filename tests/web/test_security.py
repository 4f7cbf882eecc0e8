"""Attacks on the web server (each failed against the server before it was hardened): reading
the server's files, Hub fetches, DNS rebinding, chunked bodies over the cap, a blocked event
loop, runaway computations, duplicate GPUs, missing headers and an undocumented schema."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from deepfit import _deadline  # noqa: E402
from deepfit.web import service  # noqa: E402
from deepfit.web.app import Settings, create_app  # noqa: E402

LOCAL = "http://127.0.0.1"
SECRET = "API_KEY=sk-live-0123456789"
TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "vocab_size": 100,
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=LOCAL) as c:
        yield c


@pytest.fixture()
def secrets(tmp_path: Path) -> Path:
    """A folder with a file that is not a config and a config that leaks a secret."""
    (tmp_path / "shadow").write_text(SECRET + "\n")
    (tmp_path / "config.json").write_text(json.dumps({**TINY, "hidden_size": SECRET}))
    return tmp_path


def test_no_local_files_by_default(client: TestClient, secrets: Path) -> None:
    for name in (str(secrets / "shadow"), str(secrets / "config.json"), str(secrets)):
        for path in ("/api/info", "/api/memory"):
            r = client.get(path, params={"model": name, "gpu": "H100"})
            assert r.status_code == 400, r.text
            assert SECRET not in r.text and "sk-live" not in r.text


def test_allowed_folder_only(secrets: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    inside = tmp_path_factory.mktemp("allowed")
    (inside / "tiny").mkdir()
    (inside / "tiny" / "config.json").write_text(json.dumps(TINY))
    (inside / "bad.json").write_text(json.dumps({**TINY, "hidden_size": SECRET}))
    (inside / "link.json").symlink_to(secrets / "config.json")
    settings = Settings(access=service.Access(files=inside))
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        assert c.get("/api/info", params={"model": "tiny"}).json()["params_total"] > 0
        escapes = [f"../{secrets.name}/config.json", str(secrets / "config.json"), "link.json"]
        for name in [*escapes, "bad.json"]:
            r = c.get("/api/info", params={"model": name})
            assert r.status_code == 400
            assert SECRET not in r.text and str(inside) not in r.text


def test_no_hub_fetch(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr("deepfit.models.loader.fetch_config", lambda *a: calls.append(a[0]))
    for params in ({"model": "someorg/somemodel", "hub": "true"}, {"model": "someorg/somemodel"}):
        assert client.get("/api/info", params=params).status_code == 400
    assert calls == []


def test_dns_rebinding_host_refused(client: TestClient) -> None:
    r = client.get("/api/models", headers={"host": "attacker.example:8765"})
    assert r.status_code == 400
    assert client.get("/api/models", headers={"host": "localhost:8765"}).status_code == 200


def test_chunked_body_over_the_cap(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"gpu": "L4", "config": {"pad": "'
        for _ in range(3 * 1024):
            yield b"x" * 1024
        yield b'"}}'

    r = client.post("/api/memory", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_security_headers_and_no_cdn(client: TestClient) -> None:
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    scripts = policy.split("script-src", 1)[1].split(";")[0]
    assert "default-src 'none'" in policy and "'self'" in scripts
    assert "unsafe-inline" not in scripts and "unsafe-eval" not in scripts and "http" not in scripts
    api = client.get("/api/gpus")
    for r in (page, api):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_openapi_lists_error_answers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/memory", "/api/plan", "/api/export"):
        assert {"400", "409"} <= set(paths[path]["get"]["responses"])


def test_page_sets_no_answer_text_as_html() -> None:
    """Answers may quote the request (an unknown engine's name): the page writes them as
    text; only the server's own SVG charts go in as markup."""
    from importlib import resources

    static = resources.files("deepfit.web").joinpath("static")
    for item in static.iterdir():
        if not item.name.endswith((".html", ".js")):
            continue
        for line in item.read_text("utf-8").splitlines():
            if "innerHTML" in line and "=" in line.split("innerHTML", 1)[1][:3]:
                assert re.search(r"innerHTML = \w+\.chart_svg;", line), (item.name, line)


def test_duplicate_gpus_searched_once(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def fake_plan(model: Any, targets: Any, space: Any) -> dict[str, Any]:
        seen.append(space.gpus)
        return {"plans": [], "rejected": []}

    monkeypatch.setattr(service, "_plan", fake_plan)
    r = client.get(
        "/api/plan",
        params={"model": "qwen2.5-7b", "gpu": ["H100", "h100", "H100 SXM", "L4", "H100"]},
    )
    assert r.status_code == 200
    assert len(seen[0]) == 2


def test_runaway_question_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    def forever(*_: Any) -> dict[str, Any]:
        while True:
            _deadline.check()
            time.sleep(0.01)

    with TestClient(create_app(Settings(limit_s=0.2)), base_url=LOCAL) as c:
        monkeypatch.setattr(service, "memory", forever)  # after start-up, which sizes a model
        r = c.get("/api/memory", params={"model": "qwen2.5-7b", "gpu": "L4"})
    assert r.status_code == 503 and "longer" in r.json()["error"]


def test_slow_question_does_not_block_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one question computes (here: waits), the event loop answers another."""
    release = threading.Event()
    real = service.memory

    def slow(*args: Any) -> dict[str, Any]:
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(service, "memory", slow)

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as c:
            first = asyncio.ensure_future(c.post("/api/memory", json={"config": TINY, "gpu": "L4"}))
            await asyncio.sleep(0.2)
            other = await asyncio.wait_for(c.get("/api/perf", params=PERF), 30)
            release.set()
            return other.status_code, (await first).status_code

    try:
        assert asyncio.run(scenario()) == (200, 200)
    finally:
        release.set()


PERF = {"model": "qwen2.5-7b", "gpu": "L4", "input_len": 100, "output_len": 10}


def test_slow_headers_closed() -> None:
    uvicorn = pytest.importorskip("uvicorn")
    from deepfit.web.server import HeaderTimeoutProtocol

    class Quick(HeaderTimeoutProtocol):
        header_timeout_s = 0.3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=port, http=Quick, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
            conn.sendall(b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
            assert conn.recv(1024) == b""  # closed by the server, not by our timeout
    finally:
        server.should_exit = True
        thread.join(20)
