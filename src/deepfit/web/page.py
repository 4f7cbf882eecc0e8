"""The page's own routes: the one-request answer, the GPU comparison, the choices the form
offers, the static script and style sheet, the favicon, and gzip for everything larger than
a packet. ``add_page_routes`` is called once by :func:`deepfit.web.app.create_app`."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..errors import BadInputError
from . import answer, service

Gpus = Annotated[int, Query(ge=1, le=service.MAX_GPUS)]
Tokens = Annotated[int, Query(ge=1, le=service.MAX_TOKENS)]
Short = Annotated[str, Query(min_length=1, max_length=64)]
Name = Annotated[str, Query(min_length=1, max_length=200)]
Lang = Annotated[str, Query(pattern="^(en|zh-CN)$")]

#: The files under static/ the page loads, with their media types (nothing else is served).
STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
ENGINES = ("vllm", "sglang", "trtllm", "llamacpp")


def parse_concurrency(text: str) -> int | str:
    """A concurrency field: a whole number 1..65536 or ``max``."""
    if text.strip().lower() == "max":
        return "max"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65536:
        raise BadInputError(f"concurrency '{text[:20]}' is not valid", "use 1..65536 or max")
    return value


class AnswerRequest(BaseModel):
    """A pasted config.json (as an object) with the question to answer about it."""

    config: dict[str, Any] = Field(description="the model's config.json")
    gpu: str = Field(max_length=64)
    gpus: int = Field(1, ge=1, le=service.MAX_GPUS)
    tp: int | None = Field(None, ge=1, le=service.MAX_GPUS)
    pp: int = Field(1, ge=1, le=service.MAX_GPUS)
    engine: str = Field("vllm", max_length=32)
    weights: str = Field("auto", max_length=32)
    kv_dtype: str = Field("auto", max_length=32)
    context: int | None = Field(None, ge=1, le=service.MAX_TOKENS)
    concurrency: str = Field("1", max_length=8)
    input_len: int = Field(1024, ge=1, le=service.MAX_TOKENS)
    output_len: int = Field(256, ge=1, le=service.MAX_TOKENS)
    lang: str = Field("en", pattern="^(en|zh-CN)$")


def _static(name: str) -> Response:
    data = resources.files("deepfit.web").joinpath("static").joinpath(name).read_bytes()
    return Response(data, media_type=STATIC[name], headers={"cache-control": "no-cache"})


def add_page_routes(app: FastAPI) -> None:
    from starlette.middleware.gzip import GZipMiddleware

    app.add_middleware(GZipMiddleware, minimum_size=1024)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        return _static(name)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return _static("favicon.svg")

    @app.get("/api/choices")
    async def choices() -> dict[str, Any]:
        """The lists the form offers: engines, weight formats and KV cache dtypes."""
        return {
            "engines": list(ENGINES),
            "weights": ["auto", *answer.PAGE_FORMATS],
            "kv_dtypes": list(answer.KV_DTYPES),
        }

    @app.get("/api/answer")
    def answer_get(
        model: Name,
        gpu: Short,
        gpus: Gpus = 1,
        tp: Annotated[int | None, Query(ge=1, le=service.MAX_GPUS)] = None,
        pp: Gpus = 1,
        engine: Annotated[str, Query(max_length=32)] = "vllm",
        weights: Annotated[str, Query(max_length=32)] = "auto",
        kv_dtype: Annotated[str, Query(max_length=32)] = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        concurrency: Annotated[str, Query(max_length=8)] = "1",
        input_len: Tokens = 1024,
        output_len: Tokens = 256,
        lang: Lang = "en",
    ) -> dict[str, Any]:
        """Memory, verdict, speed, matrix and launch command of one deployment, together."""
        q = answer.Question(
            gpu,
            gpus,
            engine,
            weights,
            kv_dtype,
            context,
            parse_concurrency(concurrency),
            input_len,
            output_len,
            tp,
            pp,
        )
        return answer.answer(service.resolve_model(model, None), q, lang)

    @app.post("/api/answer")
    def answer_post(req: Annotated[AnswerRequest, Body()]) -> dict[str, Any]:
        q = answer.Question(
            req.gpu,
            req.gpus,
            req.engine,
            req.weights,
            req.kv_dtype,
            req.context,
            parse_concurrency(req.concurrency),
            req.input_len,
            req.output_len,
            req.tp,
            req.pp,
        )
        return answer.answer(service.resolve_model(None, req.config), q, req.lang)

    @app.get("/api/compare")
    def compare(
        model: Name,
        gpu: Annotated[list[str], Query(min_length=1, max_length=12)],
        gpus: Gpus = 1,
        engine: Annotated[str, Query(max_length=32)] = "vllm",
        weights: Annotated[str, Query(max_length=32)] = "auto",
        kv_dtype: Annotated[str, Query(max_length=32)] = "auto",
        context: Annotated[int | None, Query(ge=1, le=service.MAX_TOKENS)] = None,
        concurrency: Annotated[str, Query(max_length=8)] = "1",
        input_len: Tokens = 1024,
        output_len: Tokens = 256,
    ) -> dict[str, Any]:
        """The same model and workload on up to 12 GPUs, side by side."""
        q = answer.Question(
            gpu[0],
            gpus,
            engine,
            weights,
            kv_dtype,
            context,
            parse_concurrency(concurrency),
            input_len,
            output_len,
        )
        return answer.compare(service.resolve_model(model, None), q, [g[:64] for g in gpu])
