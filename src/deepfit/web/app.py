"""The JSON API and the page: ``create_app()`` builds a FastAPI app over the public API.

Every endpoint answers with the same numbers as the CLI's ``--json``. Bad input is a 4xx
with ``{"error", "hint"}``; request bodies are capped at 1 MiB (however they are sent),
searches at 64 GPUs and contexts at 2M tokens. The server computes only from the request and
the bundled catalogue unless started with ``--allow-files DIR`` / ``--allow-hub``; it answers
only requests addressed to its own host name (see :mod:`deepfit.web.guard`), and computes in
a bounded pool with a time limit per request (see :mod:`deepfit.web.compute`). Bind to
127.0.0.1 unless asked (``deepfit serve --host``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, api
from ..errors import BadInputError, DeepfitError, InfeasibleError, TimeLimitError
from ..models.loader import Model
from ..train import estimate_training
from . import service
from .compute import BusyError, Compute
from .guard import LOOPBACK, Guard, page_policy
from .page import add_page_routes

T = TypeVar("T")
MAX_BODY_BYTES = 1 << 20
Gpus = Annotated[int, Query(ge=1, le=service.MAX_GPUS)]
Tokens = Annotated[int, Query(ge=1, le=service.MAX_TOKENS)]
Engine = Annotated[str, Query(max_length=32)]
Name = Annotated[str, Query(min_length=1, max_length=200)]
Text = Annotated[str, Query(max_length=32)]


@dataclass(frozen=True)
class Settings:
    """How the server was started: what it may read, which host names it answers to, and
    how much work it takes on (threads, waiting questions, seconds per question)."""

    access: service.Access = field(default_factory=service.Access)
    hosts: tuple[str, ...] = LOOPBACK
    workers: int = 4
    queue: int = 64
    limit_s: float = 20.0

    @classmethod
    def from_env(cls) -> Settings:
        """The settings ``deepfit serve`` hands to its worker processes."""
        files = os.environ.get("DEEPFIT_SERVE_ALLOW_FILES")
        hosts = os.environ.get("DEEPFIT_SERVE_HOSTS")
        return cls(
            access=service.Access(
                files=Path(files) if files else None,
                hub=os.environ.get("DEEPFIT_SERVE_ALLOW_HUB") == "1",
            ),
            hosts=tuple(hosts.split(",")) if hosts else LOOPBACK,
        )

    def to_env(self) -> dict[str, str]:
        env = {"DEEPFIT_SERVE_HOSTS": ",".join(self.hosts)}
        if self.access.files is not None:
            env["DEEPFIT_SERVE_ALLOW_FILES"] = str(self.access.files)
        if self.access.hub:
            env["DEEPFIT_SERVE_ALLOW_HUB"] = "1"
        return env


class Problem(BaseModel):
    """A bad question (400), an answer of "nothing fits" (409), a body over the cap (413),
    or a busy or timed-out server (503)."""

    error: str
    hint: str = ""


ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input"},
    409: {"model": Problem, "description": "a valid question whose answer is: nothing fits"},
    413: {"model": Problem, "description": "request body over 1 MiB"},
    503: {"model": Problem, "description": "busy, or the question took too long"},
}


class ConfigRequest(BaseModel):
    """A pasted config.json (as an object) with the deployment to size."""

    config: dict[str, Any] = Field(description="the model's config.json")
    gpu: str = Field(max_length=64)
    gpus: int = Field(1, ge=1, le=service.MAX_GPUS)
    weights: str = Field("auto", max_length=32)
    kv_dtype: str = Field("auto", max_length=32)
    context: int | None = Field(None, ge=1, le=service.MAX_TOKENS)
    batch: int = Field(1, ge=1, le=65536)
    engine: str = Field("vllm", max_length=32)


def _concurrency(text: str) -> int | str:
    if text == "max":
        return "max"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65536:
        raise DeepfitError(f"concurrency '{text[:20]}' is not valid", "use 1..65536 or max")
    return value


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    """Read the catalogues and build the bundled models once, before the first request."""
    api.catalog_summary()
    api.list_gpus()
    service.memory(api.load_model("qwen2.5-0.5b"), "H100", 1, "auto", "auto", 4096, 1, "vllm")
    yield


def _page() -> str:
    return (
        resources.files("deepfit.web").joinpath("static").joinpath("index.html").read_text("utf-8")
    )


def create_app(settings: Settings | None = None) -> Any:
    """The ASGI app: the API behind :class:`~deepfit.web.guard.Guard`. Every computation
    runs in the bounded pool (the event loop only reads requests and writes answers)."""
    settings = settings or Settings()
    compute = Compute(settings.workers, settings.queue, settings.limit_s)
    access = settings.access
    app = FastAPI(
        title="deepfit",
        version=__version__,
        description="What hardware an LLM needs, and what it will do on it.",
        lifespan=_lifespan,
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: the schema is enough
        redoc_url=None,
        responses=ANSWERS,
    )

    async def run(fn: Callable[..., T], *args: Any) -> T:
        return await compute.run(fn, *args)

    def resolve(name: str | None, config: dict[str, Any] | None = None) -> Model:
        return service.resolve_model(name, config, access)

    add_page_routes(app, run, resolve)

    @app.exception_handler(DeepfitError)
    async def bad_input(_: Request, err: DeepfitError) -> JSONResponse:
        status = 400
        if isinstance(err, InfeasibleError):
            status = 409
        elif isinstance(err, (BusyError, TimeLimitError)):
            status = 503
        return JSONResponse({"error": err.message, "hint": err.hint}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        headers = dict(err.headers or {})
        if err.status_code == 405:  # every method of the path, not only the first route's
            methods = {
                m
                for r in app.routes
                if isinstance(r, APIRoute) and r.path == request.url.path
                for m in r.methods or ()
            }
            headers["allow"] = ", ".join(sorted(methods))
        return JSONResponse(
            {"error": str(err.detail), "hint": ""}, status_code=err.status_code, headers=headers
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        html = _page()
        return HTMLResponse(html, headers={"content-security-policy": page_policy(html)})

    @app.get("/api/models")
    async def models() -> dict[str, Any]:
        return {"models": api.catalog_summary()}

    @app.get("/api/gpus")
    async def gpus() -> dict[str, Any]:
        return {"gpus": [g.to_dict() for g in api.list_gpus()]}

    @app.get("/api/info")
    async def info(model: Name, hub: bool = False) -> dict[str, Any]:
        if hub and not access.hub:
            raise BadInputError(
                "this server does not fetch configs from the Hugging Face Hub",
                "paste the config.json (POST /api/memory), or start it with --allow-hub",
            )
        return await run(lambda: service.resolve_model(model, None, access).to_dict())

    @app.get("/api/memory")
    async def memory(
        model: Name,
        gpu: Name,
        gpus: Gpus = 1,
        weights: Text = "auto",
        kv_dtype: Text = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        batch: Annotated[int, Query(ge=1, le=65536)] = 1,
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        return await run(
            lambda: service.memory(
                resolve(model), gpu, gpus, weights, kv_dtype, context, batch, engine
            )
        )

    @app.post("/api/memory")
    async def memory_from_config(req: Annotated[ConfigRequest, Body()]) -> dict[str, Any]:
        return await run(
            lambda: service.memory(
                resolve(None, req.config),
                req.gpu,
                req.gpus,
                req.weights,
                req.kv_dtype,
                req.context,
                req.batch,
                req.engine,
            )
        )

    @app.get("/api/perf")
    async def perf(
        model: Name,
        gpu: Name,
        input_len: Tokens,
        output_len: Tokens,
        gpus: Gpus = 1,
        weights: Text = "auto",
        kv_dtype: Text = "auto",
        concurrency: Text = "1",
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        conc = _concurrency(concurrency)
        return await run(
            lambda: service.perf(
                resolve(model), gpu, gpus, weights, kv_dtype, input_len, output_len, conc, engine
            )
        )

    @app.get("/api/matrix")
    async def matrix(
        model: Name,
        gpu: Name,
        input_len: Tokens,
        output_len: Tokens,
        gpus: Gpus = 1,
        concurrency: Text = "1",
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        conc = _concurrency(concurrency)
        rows = await run(
            lambda: service.matrix(resolve(model), gpu, gpus, input_len, output_len, conc, engine)
        )
        return {"matrix": rows}

    @app.get("/api/plan")
    async def plan(
        model: Name,
        input_len: Tokens = 1024,
        output_len: Tokens = 256,
        ttft_s: Annotated[float | None, Query(gt=0, le=3600)] = None,
        tpot_s: Annotated[float | None, Query(gt=0, le=60)] = None,
        rate: Annotated[float | None, Query(gt=0, le=1e6)] = None,
        budget: Annotated[float | None, Query(gt=0, le=1e7)] = None,
        objective: Annotated[str, Query(pattern="^(cost|throughput|latency)$")] = "cost",
        gpu: Annotated[
            list[Annotated[str, Query(max_length=64)]] | None, Query(max_length=64)
        ] = None,
        max_gpus: Gpus = 64,
        engine: Engine = "vllm",
        lang: Annotated[str, Query(pattern="^(en|zh-CN)$")] = "en",
    ) -> dict[str, Any]:
        targets = (input_len, output_len, ttft_s, tpot_s, rate, budget, objective)
        return await run(
            lambda: service.plan(resolve(model), *targets, gpu, max_gpus, engine, lang=lang)
        )

    @app.get("/api/export")
    async def export(
        model: Name,
        gpu: Name,
        gpus: Gpus = 1,
        weights: Text = "auto",
        kv_dtype: Text = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        concurrency: Annotated[int | None, Query(ge=1, le=65536)] = None,
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        return await run(
            lambda: service.export(
                resolve(model), gpu, engine, gpus, weights, kv_dtype, context, concurrency
            )
        )

    @app.get("/api/train")
    async def train(
        model: Name,
        gpu: Name,
        gpus: Gpus = 8,
        method: Annotated[str, Query(pattern="^(full|lora|qlora)$")] = "full",
        zero: Annotated[int, Query(ge=0, le=3)] = 3,
        seq_len: Annotated[int, Query(ge=1, le=1 << 20)] = 4096,
        offload: Annotated[str, Query(pattern="^(none|cpu)$")] = "none",
    ) -> dict[str, Any]:
        return await run(lambda: _train(resolve(model), gpu, gpus, method, zero, seq_len, offload))

    return Guard(app, settings.hosts, MAX_BODY_BYTES)


def _train(
    model: Model, gpu: str, gpus: int, method: str, zero: int, seq_len: int, offload: str
) -> dict[str, Any]:
    from ..train import Recipe, Workload
    from ..train.methods import Method, Offload

    est = estimate_training(
        model,
        api.load_gpu(gpu),
        gpus,
        recipe=Recipe(method=Method(method)),
        workload=Workload(seq_len=seq_len),
        zero=zero,
        offload=Offload(offload),
    )
    return est.to_dict()


def create_app_from_env() -> Any:
    """The app of one of ``deepfit serve --workers N``'s processes (settings from the
    environment ``deepfit serve`` set)."""
    return create_app(Settings.from_env())
