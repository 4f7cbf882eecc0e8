"""One worker of a prefill pool or of a decode pool, priced with the serving step model.

A worker is one engine instance (``tp x pp`` GPUs, optionally expert-parallel and with
data-parallel attention). Its step times come from the same step model as aggregated
serving (:func:`~deepfit.perf.serving.pipeline_step`, with the engine's efficiency terms):

- a **prefill worker** runs prompts only: one prompt takes the chunked prefill of
  :func:`~deepfit.perf.serving.prefill_time`; at full load it batches as many whole prompts
  per step as the engine's token budget holds, which sets its requests/s;
- a **decode worker** runs decode-only steps (no prompt chunks mixed in: that is the point
  of disaggregation) over the sequences it holds, at most the engine's running cap and what
  its KV pool holds at the request's full length.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..deployment import kv_spec
from ..engines import load_engine
from ..errors import BadInputError
from ..hardware import Gpu
from ..memory import estimate_memory
from ..memory.api import resolve_format
from ..memory.formats import WeightFormat
from ..memory.kv import KvSpec, bytes_per_token, load_kv_dtype
from ..memory.layout import Layout
from ..memory.result import MemoryEstimate
from ..models.loader import Model
from .calibration import Calibration
from .efficiency import Efficiency, load_efficiency
from .ops import StepShape
from .serving import Workload, pipeline_step, prefill_time


@dataclass(frozen=True)
class Pool:
    """A pool of ``workers`` identical engine instances of ``tp x pp`` ``gpu``s each."""

    gpu: str
    workers: int = 1
    tp: int = 1
    ep: int = 1
    pp: int = 1
    dp_attention: bool = False

    @property
    def gpus_per_worker(self) -> int:
        return self.tp * self.pp

    @property
    def gpus(self) -> int:
        return self.workers * self.gpus_per_worker

    def label(self) -> str:
        dpa = " DPA" if self.dp_attention else ""
        pp = f" PP{self.pp}" if self.pp > 1 else ""
        return f"{self.workers}x(TP{self.tp}{pp} EP{self.ep}{dpa}) {self.gpu}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "workers": self.workers,
            "gpus_per_worker": self.gpus_per_worker,
            "gpus": self.gpus,
            "parallel": {"tp": self.tp, "pp": self.pp, "ep": self.ep},
            "dp_attention": self.dp_attention,
        }


@dataclass(frozen=True)
class Serving:
    """What both pools share: lengths, engine, numerics, and the efficiency override."""

    input_len: int
    output_len: int
    engine: str = "sglang"
    weights: str = "auto"
    kv_dtype: str = "auto"
    efficiency: Calibration | None = None


class Worker:
    """One engine instance of a pool: its memory, numerics and efficiency terms, with the
    step times the estimate needs (memoised: the planner asks for the same ones often)."""

    def __init__(self, model: Model, gpu: Gpu, pool: Pool, serving: Serving) -> None:
        if serving.input_len < 1 or serving.output_len < 1:
            raise BadInputError("input and output lengths must be at least 1", "e.g. 1024")
        self.model, self.gpu, self.pool, self.serving = model, gpu, pool, serving
        self.mem: MemoryEstimate = estimate_memory(
            model,
            gpu,
            gpus=pool.gpus_per_worker,
            tp=pool.tp,
            pp=pool.pp,
            ep=pool.ep,
            weights=serving.weights,
            kv_dtype=serving.kv_dtype,
            context=serving.input_len + serving.output_len,
            engine=serving.engine,
            dp_attention=pool.dp_attention,
        )
        mem = self.mem
        spec = load_engine(serving.engine)
        self.eff: Efficiency = load_efficiency(serving.engine, serving.efficiency, gpu)
        self.layout = Layout(
            tp=mem.tp, pp=mem.pp, ep=mem.ep, dp=mem.dp, attention_dp=mem.dp_attention
        )
        self.fmt: WeightFormat = resolve_format(model, mem.weights_format)
        self.kv: KvSpec = kv_spec(load_kv_dtype(mem.kv_dtype), spec, self.layout)
        large = mem.gpu_memory_bytes >= spec.serving.large_gpu_bytes
        cap = self.eff.max_num_seqs_large_gpu if large else self.eff.max_num_seqs
        if pool.dp_attention:
            # each attention-DP rank schedules its own batch (TensorRT-LLM's max_batch_size
            # is per rank; the wide-EP recipes size SGLang's cap the same way)
            cap *= pool.tp
        #: sequences one worker holds at once: the engine's cap and the KV pool's room
        self.max_running = max(1, min(cap, mem.max_concurrency)) if mem.max_concurrency else 1
        self._tpot: dict[int, float] = {}

    @property
    def fits(self) -> bool:
        return self.mem.fits

    # -- KV bytes -------------------------------------------------------------------------

    def kv_gpu_bytes(self, tokens: int) -> float:
        """KV bytes one GPU of this worker holds for ``tokens`` tokens of one sequence
        (its pipeline stage's layers; its tensor-parallel shard, or whole heads with DPA)."""
        return bytes_per_token(self.model.arch, self.kv) * tokens / self.layout.pp

    def kv_request_bytes(self, tokens: int) -> float:
        """KV bytes of one sequence of ``tokens`` tokens over the whole model (unsharded)."""
        whole = KvSpec(self.kv.dtype, mla_latent=self.kv.mla_latent, tp=1)
        return bytes_per_token(self.model.arch, whole) * tokens

    # -- prefill --------------------------------------------------------------------------

    @cached_property
    def prefill_seconds(self) -> float:
        """Seconds to prefill one prompt alone (chunked at the engine's token budget)."""
        s = self.serving
        work = Workload(s.input_len, s.output_len, 1)
        _, seconds = prefill_time(
            self.model.arch, self.gpu, self.fmt, self.kv, self.layout, self.eff, work
        )
        return seconds

    @property
    def prefill_requests_per_s(self) -> float:
        """Prompts per second at full load: whole prompts batched up to the token budget
        per step (one chunk at a time when a prompt is longer), on every attention-DP rank;
        with pipeline stages the pace is one step of the slowest stage."""
        return self._full_batch[0]

    @property
    def prefill_batch_seconds(self) -> float:
        """Seconds from the start to the end of one full prefill batch (all its chunks and
        pipeline stages): what a prompt takes when it shares a busy worker's batch."""
        return self._full_batch[1]

    @cached_property
    def _full_batch(self) -> tuple[float, float]:
        s, eff = self.serving, self.eff
        budget = eff.max_batched_tokens
        per_step = max(1, budget // s.input_len)
        tokens = min(s.input_len, budget) if per_step == 1 else per_step * s.input_len
        chunks = -(-s.input_len // tokens) if per_step == 1 else 1
        shape = StepShape(prefill_tokens=tokens, prefill_context=s.input_len / 2)
        step = pipeline_step(self.model.arch, self.gpu, self.fmt, self.kv, self.layout, eff, shape)
        rate = self.layout.dp * per_step / (chunks * step.seconds)
        return rate, chunks * step.seconds * self.layout.pp

    # -- decode ---------------------------------------------------------------------------

    def tpot(self, running: int) -> float:
        """Time per output token with ``running`` sequences on this worker, decode only."""
        running = max(1, min(running, self.max_running))
        if running not in self._tpot:
            s, layout = self.serving, self.layout
            per_rank = -(-running // layout.dp)
            micro = -(-per_rank // layout.pp)
            shape = StepShape(decode_tokens=micro, decode_context=s.input_len + s.output_len / 2)
            step = pipeline_step(
                self.model.arch, self.gpu, self.fmt, self.kv, layout, self.eff, shape
            )
            self._tpot[running] = step.seconds * layout.pp
        return self._tpot[running]
