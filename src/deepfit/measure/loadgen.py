"""A load generator for OpenAI-compatible streaming servers (vLLM, SGLang, TGI, llama.cpp,
Ollama): fixed concurrency, a concurrency sweep, or Poisson arrivals at a rate.

Every request streams (``stream: true`` with ``stream_options.include_usage``) so the time
to the first token and the gaps between chunks are seen as they happen. Each finished
request is handed to ``on_record`` at once (the CLI writes it to disk there). Errors and
timeouts become records with ``ok=False``; they never stop the run, except that
``max_consecutive_errors`` failures in a row (a dead server) end it early with a reason.
Runs are bounded by a request count and a wall-clock limit per level.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import BadInputError
from .results import RequestRecord
from .workload import Prompt

OnRecord = Callable[[RequestRecord], None]


@dataclass(frozen=True)
class LoadSpec:
    """How to load the server. ``concurrency`` holds one level, or several for a sweep;
    ``rate`` (requests/s, Poisson arrivals) replaces it when set."""

    base_url: str
    api: str = "completions"  # or "chat"
    served_model: str | None = None
    concurrency: tuple[int, ...] = (1,)
    rate: float | None = None
    max_concurrency: int | None = None  # cap on requests in flight under a rate
    requests_per_level: int = 32
    duration_s: float = 600.0  # wall-clock limit per level
    timeout_s: float = 300.0  # per request
    ignore_eos: bool = True
    max_consecutive_errors: int = 10
    seed: int = 0
    run_id: str = ""

    @property
    def levels(self) -> list[str]:
        if self.rate is not None:
            return [f"rate={self.rate:g}"]
        return [f"c={c}" for c in self.concurrency]


@dataclass
class LevelOutcome:
    """What one level did: its records, wall time, and why it stopped early (if it did)."""

    level: str
    concurrency: int | None
    rate: float | None
    records: list[RequestRecord] = field(default_factory=list)
    wall_s: float = 0.0
    unfinished: int = 0
    stopped: str | None = None


def base_url(url: str) -> str:
    """``http://host:port`` from any of ``host:port``, ``.../v1``, ``.../v1/completions``."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    for suffix in ("/chat/completions", "/completions", "/v1"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    url = url.rstrip("/")
    try:
        parsed = httpx.URL(url)
        port = parsed.port
        ok = (
            parsed.scheme in ("http", "https")
            and bool(parsed.host)
            and (port is None or 0 < port < 65536)
        )
    except (httpx.InvalidURL, ValueError, TypeError):
        ok = False
    if not ok:
        raise BadInputError(
            f"{url[:100]!r} is not a server URL",
            "give http://HOST:PORT, e.g. http://127.0.0.1:8000",
        )
    return url


async def check_reachable(client: httpx.AsyncClient, base: str) -> None:
    """Refuse at once a server that cannot be connected to (a typo in the URL, nothing
    listening); any HTTP answer, even an error, means it is there."""
    try:
        await client.get(f"{base}/v1/models", timeout=10.0)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
        raise BadInputError(
            f"cannot connect to {base[:100]}: {str(exc)[:120] or type(exc).__name__}",
            "check the URL and that the server is up",
        ) from None
    except httpx.HTTPError:
        return


async def served_model(client: httpx.AsyncClient, base: str) -> str | None:
    """The first model id the server lists at ``/v1/models`` (None if it lists none)."""
    try:
        r = await client.get(f"{base}/v1/models", timeout=10.0)
        data = r.json().get("data") or []
        return str(data[0]["id"]) if data else None
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def request_body(spec: LoadSpec, prompt: Prompt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "max_tokens": prompt.output_len,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.0,
    }
    if spec.served_model:
        body["model"] = spec.served_model
    if spec.ignore_eos:
        body["ignore_eos"] = True  # vLLM/SGLang: exactly max_tokens tokens
    if spec.api == "chat":
        body["messages"] = list(prompt.messages or ({"role": "user", "content": prompt.text},))
    else:
        body["prompt"] = prompt.text
    return body


class _Stream:
    """Folds the SSE events of one streamed completion into timings and counts."""

    def __init__(self, api: str, start: float) -> None:
        self.api, self.start = api, start
        self.first: float | None = None
        self.last = start
        self.itl: list[float] = []
        self.chunks = 0
        self.usage: dict[str, Any] = {}

    def feed(self, line: str) -> bool:
        """Takes one line; False at ``[DONE]``. An event that is not a JSON object with a
        list of object choices raises BadEvent (the request fails with its reason)."""
        if not line.startswith("data:"):
            return True
        data = line[5:].strip()
        if data == "[DONE]":
            return False
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, RecursionError):
            return True
        if not isinstance(obj, dict):
            raise BadEvent(f"event data is a JSON {type(obj).__name__}, not an object")
        if isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
        choices = obj.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise BadEvent("event 'choices' is not a list of objects")
        for choice in choices:
            if self._text(choice):
                now = time.perf_counter()
                if self.first is None:
                    self.first = now
                else:
                    self.itl.append(now - self.last)
                self.last = now
                self.chunks += 1
        return True

    def _text(self, choice: dict[str, Any]) -> str:
        if self.api == "chat":
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise BadEvent("event 'delta' is not an object")
            return str(delta.get("content") or delta.get("reasoning_content") or "")
        return str(choice.get("text") or "")


class BadEvent(Exception):
    """A streamed event deepfit cannot read: the request is recorded as failed."""


MAX_LINE_BYTES = 1 << 20
"""The longest SSE line read (a token chunk is a few hundred bytes)."""


async def _lines(resp: httpx.Response) -> AsyncIterator[str]:
    """The response's lines, refusing one over MAX_LINE_BYTES (a server that never sends a
    newline would otherwise fill memory)."""
    buf = b""
    async for chunk in resp.aiter_bytes():
        buf += chunk
        while True:
            cut = buf.find(b"\n")
            if cut < 0:
                break
            yield buf[:cut].rstrip(b"\r").decode("utf-8", errors="replace")
            buf = buf[cut + 1 :]
        if len(buf) > MAX_LINE_BYTES:
            raise BadEvent(f"a streamed line is over {MAX_LINE_BYTES:,} bytes")
    if buf:
        yield buf.decode("utf-8", errors="replace")


async def one_request(
    client: httpx.AsyncClient,
    spec: LoadSpec,
    prompt: Prompt,
    index: int,
    level: str,
    t0: float,
    on_cancel: OnRecord | None = None,
) -> RequestRecord:
    """Send one streamed request; never raises for network or server failures. The whole
    request (connect, headers, every chunk) has ``spec.timeout_s``; a request cancelled in
    flight (the level's time limit) is handed to ``on_cancel`` with what it got so far."""
    path = "/v1/chat/completions" if spec.api == "chat" else "/v1/completions"
    start = time.perf_counter()
    s = _Stream(spec.api, start)
    common: dict[str, Any] = {
        "run_id": spec.run_id,
        "index": index,
        "level": level,
        "start_s": start - t0,
        "requested_input_len": prompt.input_len,
        "requested_output_len": prompt.output_len,
    }

    async def stream() -> str | None:
        async with client.stream(
            "POST", spec.base_url + path, json=request_body(spec, prompt), timeout=spec.timeout_s
        ) as resp:
            if resp.status_code != 200:
                text = (await resp.aread())[:200].decode(errors="replace")
                return f"HTTP {resp.status_code}: {text}"
            async for line in _lines(resp):
                if not s.feed(line):
                    break
        return None

    error: str | None = None
    status = "error"
    try:
        error = await asyncio.wait_for(stream(), spec.timeout_s)
    except (httpx.TimeoutException, asyncio.TimeoutError):
        error, status = f"timeout after {spec.timeout_s:g} s", "timeout"
    except BadEvent as exc:
        error, status = f"bad stream: {exc}", "bad_stream"
    except (httpx.HTTPError, OSError, UnicodeError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:200]
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel(_failed(s, common, "cancelled: the level's time limit ended it", "cancelled"))
        raise
    except Exception as exc:  # whatever a server sends, the request is recorded, the worker lives
        error = f"unexpected {type(exc).__name__}: {exc}"[:200]
    if error is None and s.first is None:
        error = "empty stream: no token came back"
    if error is not None:
        return _failed(s, common, error, status)
    completion = s.usage.get("completion_tokens")
    from_usage = isinstance(completion, int) and not isinstance(completion, bool)
    prompt_tokens = s.usage.get("prompt_tokens")
    end = time.perf_counter()
    assert s.first is not None
    return RequestRecord(
        ok=True,
        ttft_s=s.first - start,
        e2e_s=end - start,
        itl_s=tuple(s.itl),
        prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
        completion_tokens=completion if from_usage else s.chunks,
        token_source="usage" if from_usage else "chunks",
        chunks=s.chunks,
        **common,
    )


def _failed(s: _Stream, common: dict[str, Any], error: str, status: str) -> RequestRecord:
    """A failed request with what it got before it failed (first token, chunks)."""
    end = time.perf_counter()
    return RequestRecord(
        ok=False,
        error=error,
        status=status,
        ttft_s=None if s.first is None else s.first - s.start,
        e2e_s=end - s.start,
        chunks=s.chunks,
        **common,
    )


class _Level:
    """Shared state of one level: the sink, the error streak, the stop flag."""

    def __init__(self, outcome: LevelOutcome, on_record: OnRecord, spec: LoadSpec) -> None:
        self.outcome, self.on_record, self.spec = outcome, on_record, spec
        self.streak = 0
        self.stop = asyncio.Event()

    def done(self, rec: RequestRecord) -> None:
        self.outcome.records.append(rec)
        self.on_record(rec)
        self.streak = 0 if rec.ok else self.streak + 1
        if self.streak >= self.spec.max_consecutive_errors and not self.stop.is_set():
            self.outcome.stopped = f"{self.streak} requests in a row failed (last: {rec.error})"
            self.stop.set()


async def _fixed(
    client: httpx.AsyncClient, lv: _Level, prompts: Sequence[Prompt], c: int, t0: float
) -> None:
    it = iter(enumerate(prompts))

    async def worker() -> None:
        for i, p in it:
            if lv.stop.is_set():
                return
            lv.done(await one_request(client, lv.spec, p, i, lv.outcome.level, t0, lv.done))

    await _bounded(lv, [asyncio.create_task(worker()) for _ in range(c)], t0)


async def _poisson(
    client: httpx.AsyncClient, lv: _Level, prompts: Sequence[Prompt], rate: float, t0: float
) -> None:
    rng = random.Random(lv.spec.seed)
    cap = asyncio.Semaphore(lv.spec.max_concurrency or len(prompts) or 1)

    async def send(i: int, p: Prompt) -> None:
        async with cap:
            if not lv.stop.is_set():
                lv.done(await one_request(client, lv.spec, p, i, lv.outcome.level, t0, lv.done))

    async def arrivals() -> None:
        for i, p in enumerate(prompts):
            if lv.stop.is_set():
                return
            tasks.append(asyncio.create_task(send(i, p)))
            await asyncio.sleep(rng.expovariate(rate))

    tasks: list[asyncio.Task[None]] = []
    await _bounded(lv, [asyncio.create_task(arrivals())], t0, tasks)


async def _bounded(
    lv: _Level,
    tasks: list[asyncio.Task[None]],
    t0: float,
    spawned: list[asyncio.Task[None]] | None = None,
) -> None:
    """Wait for ``tasks`` (and what they spawn) until the level's wall-clock limit."""
    deadline = t0 + lv.spec.duration_s
    pending = set(tasks)
    while pending or (spawned and any(not t.done() for t in spawned)):
        pending |= {t for t in spawned or [] if not t.done()}
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=left)
    unfinished = {t for t in set(tasks) | set(spawned or []) if not t.done()}
    if unfinished:
        lv.outcome.stopped = lv.outcome.stopped or f"time limit {lv.spec.duration_s:g} s reached"
        for t in unfinished:
            t.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
    started = len(spawned) if spawned is not None else None
    lv.outcome.unfinished = (
        started - len(lv.outcome.records) if started is not None else len(unfinished)
    )


async def run_level(
    client: httpx.AsyncClient,
    spec: LoadSpec,
    level: str,
    prompts: Sequence[Prompt],
    on_record: OnRecord,
) -> LevelOutcome:
    """Run one level (a concurrency or the Poisson rate) over ``prompts``."""
    c = None if spec.rate is not None else int(level.split("=")[1])
    outcome = LevelOutcome(level, c, spec.rate)
    lv = _Level(outcome, on_record, spec)
    t0 = time.perf_counter()
    if spec.rate is not None:
        await _poisson(client, lv, prompts, spec.rate, t0)
    else:
        assert c is not None
        await _fixed(client, lv, prompts, c, t0)
    outcome.wall_s = time.perf_counter() - t0
    return outcome


def make_client(max_connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=0)
    return httpx.AsyncClient(limits=limits, trust_env=False)
