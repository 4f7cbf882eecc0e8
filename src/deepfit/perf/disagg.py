"""``estimate_disagg``: TTFT, TPOT and throughput of disaggregated prefill/decode serving.

A prefill pool of ``P`` workers runs prompts; each prompt's KV cache then crosses the link
to one of ``D`` decode workers (:mod:`~deepfit.perf.kv_transfer`), which generate the
answer in decode-only steps. At a request rate ``X`` (requests/s):

- **decode**: by Little's law each decode worker holds ``n = X (O - 1) TPOT(n) / D``
  sequences (solved by fixed point; TPOT grows with ``n``), at most ``max_running``;
- **prefill**: each prefill worker receives ``X / P`` prompts/s against a capacity of
  ``mu`` prompts/s (whole prompts batched to the token budget); the wait for a prefill slot
  is the M/D/1 mean ``rho s / (2 (1 - rho))`` with ``s = 1 / mu`` (deterministic service);
- **TTFT** = request overhead + one prompt's prefill + that wait + the KV transfer + one
  decode step; **TPOT** = the decode step at ``n``.

Two loads: an open-loop ``rate`` (the planner's targets), or ``concurrency`` clients in a
closed loop (the published benchmarks): then ``X`` solves ``C = X (TTFT + (O - 1) TPOT)``,
and when a pool saturates first the clients' extra wait shows up in TTFT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInputError
from ..hardware import load_gpu
from ..models.loader import Model
from .disagg_pools import Pool, Serving, Worker
from .kv_transfer import KvTransfer, kv_link, kv_transfer

_FIXED_POINT_STEPS = 30
_BISECT_STEPS = 60
_SATURATED = 0.95  # a pool at this share of its capacity or more is the bottleneck


@dataclass(frozen=True)
class DisaggEstimate:
    """Steady-state speed of one disaggregated deployment. Seconds, tokens/s, requests/s."""

    model_id: str
    engine: str
    weights_format: str
    prefill: Pool
    decode: Pool
    input_tokens: int
    output_tokens: int
    requests_per_s: float
    ttft_s: float
    tpot_s: float
    output_tokens_per_s: float
    prefill_s: float  # one prompt alone on a prefill worker
    prefill_wait_s: float  # mean wait for a prefill slot (queueing)
    prefill_utilization: float
    prefill_requests_per_s_capacity: float  # the whole prefill pool's
    decode_running_per_worker: float
    decode_max_running: int  # per decode worker
    transfer: KvTransfer
    bottleneck: str  # "prefill", "decode" or "none"
    fits: bool
    source: str  # the contract's value: roofline or calibrated
    provenance: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def gpus(self) -> int:
        return self.prefill.gpus + self.decode.gpus

    @property
    def ratio(self) -> str:
        """P:D in workers ("1P:3D")."""
        return f"{self.prefill.workers}P:{self.decode.workers}D"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: SI units; an unbounded time (a saturated pool's queue) is null."""
        return {k: _finite(v) for k, v in self._fields().items()}

    def _fields(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "engine": self.engine,
            "weights": self.weights_format,
            "prefill": self.prefill.to_dict(),
            "decode": self.decode.to_dict(),
            "gpus": self.gpus,
            "ratio": self.ratio,
            "input_len": self.input_tokens,
            "output_len": self.output_tokens,
            "requests_per_s": self.requests_per_s,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "output_tokens_per_s_per_gpu": self.output_tokens_per_s / self.gpus,
            "prefill_s": self.prefill_s,
            "prefill_wait_s": self.prefill_wait_s,
            "prefill_utilization": self.prefill_utilization,
            "prefill_capacity_requests_per_s": self.prefill_requests_per_s_capacity,
            "decode_running_per_worker": self.decode_running_per_worker,
            "decode_max_running_per_worker": self.decode_max_running,
            "kv_transfer": self.transfer.to_dict(),
            "bottleneck": self.bottleneck,
            "fits": self.fits,
            "source": self.source,
            "provenance": dict(self.provenance),
            "notes": list(self.notes),
        }


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass(frozen=True)
class PoolPair:
    """A prefill worker and a decode worker with the link between their pools: everything
    an estimate needs except the worker counts (the planner varies those)."""

    prefill: Worker
    decode: Worker
    link: str = "auto"

    def transfer(self, total_gpus: int) -> KvTransfer:
        tokens = self.prefill.serving.input_len
        one_type = self.prefill.gpu.name == self.decode.gpu.name
        link = kv_link(self.decode.gpu, total_gpus, self.link, one_type)
        return kv_transfer(
            self.prefill.kv_request_bytes(tokens),
            self.prefill.kv_gpu_bytes(tokens),
            self.decode.kv_gpu_bytes(tokens),
            link,
        )


def worker_pair(
    model: Model, prefill: Pool, decode: Pool, serving: Serving, link: str = "auto"
) -> PoolPair:
    """The two workers of a prefill/decode split (memory, numerics and terms for each)."""
    if prefill.workers < 1 or decode.workers < 1:
        raise BadInputError("each pool needs at least one worker", "e.g. --prefill 1xTP8")
    return PoolPair(
        Worker(model, load_gpu(prefill.gpu), prefill, serving),
        Worker(model, load_gpu(decode.gpu), decode, serving),
        link,
    )


def decode_running(worker: Worker, workers: int, rate: float) -> float:
    """Sequences per decode worker at ``rate`` requests/s (Little's law, fixed point)."""
    steps = max(1, worker.serving.output_len - 1)
    n = 1.0
    for _ in range(_FIXED_POINT_STEPS):
        last, n = n, rate * steps * worker.tpot(max(1, math.ceil(n))) / workers
        if math.ceil(n) == math.ceil(last):
            break  # TPOT is priced at whole sequences: the next step gives the same n
    return n


def prefill_side(pair: PoolPair, p: int, rate: float) -> tuple[float, float]:
    """(seconds from arrival to the prompt's last prefill step, of which the wait for a
    slot) with ``p`` prefill workers at ``rate`` requests/s; the wait is infinite at or over
    the pool's capacity."""
    pre = pair.prefill
    mu = pre.prefill_requests_per_s
    rho = rate / (p * mu)
    wait = math.inf if rho >= 1.0 else rho / mu / (2.0 * (1.0 - rho))
    # a prompt on an idle worker runs alone; on a busy one it shares a full batch
    busy = min(rho, 1.0) * max(0.0, pre.prefill_batch_seconds - pre.prefill_seconds)
    return pre.eff.request_overhead_s + pre.prefill_seconds + busy + wait, wait


def _at_rate(pair: PoolPair, p: int, d: int, rate: float) -> tuple[float, float, float, float]:
    """(TTFT without the transfer, TPOT, prefill wait, decode sequences per worker)."""
    dec = pair.decode
    n = decode_running(dec, d, rate)
    tpot = dec.tpot(max(1, math.ceil(n)))
    prefill, wait = prefill_side(pair, p, rate)
    return prefill + tpot, tpot, wait, n


def estimate_pair(
    pair: PoolPair, p: int, d: int, *, rate: float | None = None, concurrency: int | None = None
) -> DisaggEstimate:
    """The estimate for ``p`` prefill and ``d`` decode workers of ``pair`` under an open-loop
    ``rate`` (requests/s) or ``concurrency`` closed-loop clients (exactly one of them)."""
    if (rate is None) == (concurrency is None):
        raise BadInputError("give a request rate or a concurrency", "e.g. --rate 2")
    pre, dec = pair.prefill, pair.decode
    prefill_pool = _with_workers(pre.pool, p)
    decode_pool = _with_workers(dec.pool, d)
    transfer = pair.transfer(prefill_pool.gpus + decode_pool.gpus)
    steps = max(1, pre.serving.output_len - 1)
    prefill_cap = p * pre.prefill_requests_per_s
    decode_cap = d * dec.max_running / (steps * dec.tpot(dec.max_running))
    capacity = min(prefill_cap, decode_cap)
    notes: list[str] = []
    if rate is not None:
        if rate <= 0:
            raise BadInputError("the request rate must be positive", "e.g. --rate 2")
        x = rate
        ttft, tpot, wait, n = _at_rate(pair, p, d, min(rate, capacity * (1 - 1e-9)))
        ttft += transfer.seconds
        if rate >= capacity:
            ttft, wait = math.inf, math.inf
            notes.append(f"{rate:g} requests/s exceeds the capacity of {capacity:.3g}: queues grow")
    else:
        assert concurrency is not None
        if concurrency < 1:
            raise BadInputError("concurrency must be at least 1", "e.g. --concurrency 64")
        x, ttft, tpot, wait, n = _closed_loop(pair, p, d, concurrency, capacity, transfer.seconds)
    # the busier pool, once it runs at 95% of what it can take
    use = {"prefill": x / prefill_cap, "decode": x / decode_cap}
    busiest = max(use, key=lambda k: use[k])
    bottleneck = busiest if use[busiest] >= _SATURATED else "none"
    for worker, name in ((pre, "prefill"), (dec, "decode")):
        if not worker.fits:
            why = worker.mem.reasons[0] if worker.mem.reasons else "see `deepfit memory`"
            notes.append(f"a {name} worker does not fit ({why})")
    source = dec.eff.provenance.source
    return DisaggEstimate(
        model_id=pre.model.id,
        engine=pre.serving.engine,
        weights_format=dec.mem.weights_format,
        prefill=prefill_pool,
        decode=decode_pool,
        input_tokens=pre.serving.input_len,
        output_tokens=pre.serving.output_len,
        requests_per_s=x,
        ttft_s=ttft,
        tpot_s=tpot,
        output_tokens_per_s=x * pre.serving.output_len,
        prefill_s=pre.prefill_seconds,
        prefill_wait_s=wait,
        prefill_utilization=min(1.0, x / prefill_cap),
        prefill_requests_per_s_capacity=prefill_cap,
        decode_running_per_worker=n,
        decode_max_running=dec.max_running,
        transfer=transfer,
        bottleneck=bottleneck,
        fits=pre.fits and dec.fits,
        source=source,
        provenance=_provenance(pre.eff.provenance.value, dec.eff.provenance.value),
        notes=tuple(notes),
    )


def _closed_loop(
    pair: PoolPair, p: int, d: int, clients: int, capacity: float, transfer_s: float
) -> tuple[float, float, float, float, float]:
    """(requests/s, TTFT, TPOT, prefill wait, decode sequences per worker) with ``clients``
    in a closed loop: bisect the rate whose implied concurrency is ``clients``."""
    steps = max(1, pair.prefill.serving.output_len - 1)

    def implied(x: float) -> tuple[float, float, float, float, float]:
        ttft, tpot, wait, n = _at_rate(pair, p, d, x)
        ttft += transfer_s
        return x * (ttft + steps * tpot), ttft, tpot, wait, n

    lo, hi = 0.0, capacity * (1 - 1e-9)
    top = implied(hi)
    if top[0] <= clients:
        # a pool is saturated before the clients are all served: they wait for it
        _, _, tpot, wait, n = top
        return hi, clients / hi - steps * tpot, tpot, wait + (clients - top[0]) / hi, n
    for _ in range(_BISECT_STEPS):
        if hi - lo <= 1e-9 * hi:
            break
        mid = (lo + hi) / 2
        if implied(mid)[0] < clients:
            lo = mid
        else:
            hi = mid
    _, ttft, tpot, wait, n = implied(lo)
    return lo, ttft, tpot, wait, n


def _with_workers(pool: Pool, workers: int) -> Pool:
    from dataclasses import replace

    return replace(pool, workers=workers)


def _provenance(prefill: str, decode: str) -> dict[str, str]:
    """Where each number comes from (the step model's terms are ``prefill`` / ``decode``)."""
    return {
        "prefill_s": f"step model, {prefill} terms (serving.prefill_time)",
        "prefill_capacity": f"step model, {prefill} terms: prompts per full token-budget step",
        "prefill_wait_s": "M/D/1 mean wait at the prefill pool's utilization (queueing model)",
        "kv_transfer": "alpha-beta over the catalogue link (kv_transfer.py)",
        "tpot_s": f"step model, {decode} terms: decode-only step at Little's-law concurrency",
        "ttft_s": "overhead + prefill + wait + KV transfer + one decode step",
        "output_tokens_per_s": "requests/s x output length",
    }


def estimate_disagg(
    model: Model,
    prefill: Pool,
    decode: Pool,
    *,
    input_len: int,
    output_len: int,
    rate: float | None = None,
    concurrency: int | None = None,
    engine: str = "sglang",
    weights: str = "auto",
    kv_dtype: str = "auto",
    link: str = "auto",
) -> DisaggEstimate:
    """Speed of ``model`` served by a ``prefill`` pool and a ``decode`` pool (see the
    module docstring) under an open-loop ``rate`` or ``concurrency`` closed-loop clients."""
    serving = Serving(input_len, output_len, engine, weights, kv_dtype)
    pair = worker_pair(model, prefill, decode, serving, link)
    return estimate_pair(pair, prefill.workers, decode.workers, rate=rate, concurrency=concurrency)
