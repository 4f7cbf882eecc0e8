"""The JSON API and the page: ``create_app()`` builds a FastAPI app over the public API.

Every endpoint answers with the same numbers as the CLI's ``--json``. Bad input is a 4xx
with ``{"error", "hint"}``; request bodies are capped at 1 MiB, searches at 64 GPUs and
contexts at 2M tokens. Bind to 127.0.0.1 unless asked (``deepfit serve --host``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from .. import __version__, api
from ..errors import DeepfitError, InfeasibleError
from ..train import estimate_training
from . import service
from .page import add_page_routes

MAX_BODY_BYTES = 1 << 20
Gpus = Annotated[int, Query(ge=1, le=service.MAX_GPUS)]
Tokens = Annotated[int, Query(ge=1, le=service.MAX_TOKENS)]
Engine = Annotated[str, Query(max_length=32)]
Name = Annotated[str, Query(min_length=1, max_length=200)]


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


# Fast answers (well under a millisecond of work) run on the event loop; the planner's search
# (a fraction of a second) and training estimates run in the thread pool.
def create_app() -> FastAPI:
    app = FastAPI(
        title="deepfit",
        version=__version__,
        description="What hardware an LLM needs, and what it will do on it.",
        lifespan=_lifespan,
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
            return JSONResponse(
                {"error": "request body too large", "hint": f"at most {MAX_BODY_BYTES} bytes"},
                status_code=413,
            )
        return await call_next(request)

    add_page_routes(app)

    @app.exception_handler(DeepfitError)
    async def bad_input(_: Request, err: DeepfitError) -> JSONResponse:
        status = 409 if isinstance(err, InfeasibleError) else 400
        return JSONResponse({"error": err.message, "hint": err.hint}, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return (
            resources.files("deepfit.web")
            .joinpath("static")
            .joinpath("index.html")
            .read_text(encoding="utf-8")
        )

    @app.get("/api/models")
    async def models() -> dict[str, Any]:
        return {"models": api.catalog_summary()}

    @app.get("/api/gpus")
    async def gpus() -> dict[str, Any]:
        return {"gpus": [g.to_dict() for g in api.list_gpus()]}

    @app.get("/api/info")
    async def info(model: Name, hub: bool = False) -> dict[str, Any]:
        return api.load_model(model, hub=hub).to_dict()

    @app.get("/api/memory")
    async def memory(
        model: Name,
        gpu: Name,
        gpus: Gpus = 1,
        weights: str = "auto",
        kv_dtype: str = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        batch: Annotated[int, Query(ge=1, le=65536)] = 1,
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        m = service.resolve_model(model, None)
        return service.memory(m, gpu, gpus, weights, kv_dtype, context, batch, engine)

    @app.post("/api/memory")
    async def memory_from_config(req: Annotated[ConfigRequest, Body()]) -> dict[str, Any]:
        m = service.resolve_model(None, req.config)
        return service.memory(
            m, req.gpu, req.gpus, req.weights, req.kv_dtype, req.context, req.batch, req.engine
        )

    @app.get("/api/perf")
    async def perf(
        model: Name,
        gpu: Name,
        input_len: Tokens,
        output_len: Tokens,
        gpus: Gpus = 1,
        weights: str = "auto",
        kv_dtype: str = "auto",
        concurrency: str = "1",
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        m = service.resolve_model(model, None)
        return service.perf(
            m,
            gpu,
            gpus,
            weights,
            kv_dtype,
            input_len,
            output_len,
            _concurrency(concurrency),
            engine,
        )

    @app.get("/api/matrix")
    async def matrix(
        model: Name,
        gpu: Name,
        input_len: Tokens,
        output_len: Tokens,
        gpus: Gpus = 1,
        concurrency: str = "1",
        engine: Engine = "vllm",
    ) -> dict[str, Any]:
        m = service.resolve_model(model, None)
        return {
            "matrix": service.matrix(
                m, gpu, gpus, input_len, output_len, _concurrency(concurrency), engine
            )
        }

    @app.get("/api/plan")
    def plan(
        model: Name,
        input_len: Tokens = 1024,
        output_len: Tokens = 256,
        ttft_s: Annotated[float | None, Query(gt=0, le=3600)] = None,
        tpot_s: Annotated[float | None, Query(gt=0, le=60)] = None,
        rate: Annotated[float | None, Query(gt=0, le=1e6)] = None,
        budget: Annotated[float | None, Query(gt=0, le=1e7)] = None,
        objective: Annotated[str, Query(pattern="^(cost|throughput|latency)$")] = "cost",
        gpu: Annotated[list[str] | None, Query(max_length=64)] = None,
        max_gpus: Gpus = 64,
        engine: Engine = "vllm",
        lang: Annotated[str, Query(pattern="^(en|zh-CN)$")] = "en",
    ) -> dict[str, Any]:
        m = service.resolve_model(model, None)
        return service.plan(
            m, input_len, output_len, ttft_s, tpot_s, rate, budget, objective, gpu, max_gpus,
            engine, lang=lang,
        )  # fmt: skip

    @app.get("/api/export")
    def export(
        model: Name,
        gpu: Name,
        gpus: Gpus = 1,
        weights: str = "auto",
        kv_dtype: str = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        concurrency: Annotated[int | None, Query(ge=1, le=65536)] = None,
        engine: Annotated[str, Query(max_length=32)] = "vllm",
    ) -> dict[str, Any]:
        m = service.resolve_model(model, None)
        return service.export(m, gpu, engine, gpus, weights, kv_dtype, context, concurrency)

    @app.get("/api/train")
    def train(
        model: Name,
        gpu: Name,
        gpus: Gpus = 8,
        method: Annotated[str, Query(pattern="^(full|lora|qlora)$")] = "full",
        zero: Annotated[int, Query(ge=0, le=3)] = 3,
        seq_len: Annotated[int, Query(ge=1, le=1 << 20)] = 4096,
        offload: Annotated[str, Query(pattern="^(none|cpu)$")] = "none",
    ) -> dict[str, Any]:
        from ..train import Recipe, Workload
        from ..train.methods import Method, Offload

        m = service.resolve_model(model, None)
        est = estimate_training(
            m,
            api.load_gpu(gpu),
            gpus,
            recipe=Recipe(method=Method(method)),
            workload=Workload(seq_len=seq_len),
            zero=zero,
            offload=Offload(offload),
        )
        return est.to_dict()

    return app
