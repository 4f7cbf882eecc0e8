"""The answer to "how fast?": :class:`PerfEstimate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .calibration import Provenance
from .roofline import StepTime


@dataclass(frozen=True)
class PerfEstimate:
    """Steady-state serving speed of one deployment. Seconds and tokens per second."""

    model_id: str
    gpu: str
    gpus: int
    engine: str
    weights_format: str
    tp: int
    pp: int
    ep: int
    dp: int
    input_tokens: int
    output_tokens: int
    concurrency: int
    ttft_s: float
    tpot_s: float
    output_tokens_per_s: float
    total_tokens_per_s: float
    bound: str
    source: str  # the contract's value: "roofline", "calibrated" or "measured"
    decode_step: StepTime
    prefill_step: StepTime
    fits: bool
    notes: tuple[str, ...] = field(default=())
    provenance: Provenance = Provenance.ROOFLINE  # also tells a bundled fit from the user's
    simulated: Any = None  # simulate.SimResult when a load shape was simulated

    @property
    def output_tokens_per_s_per_user(self) -> float:
        return 1.0 / self.tpot_s if self.tpot_s > 0 else 0.0

    def to_dict(self, ops: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model_id,
            "gpu": self.gpu,
            "gpus": self.gpus,
            "engine": self.engine,
            "weights": self.weights_format,
            "parallel": {"tp": self.tp, "pp": self.pp, "ep": self.ep, "dp": self.dp},
            "input_len": self.input_tokens,
            "output_len": self.output_tokens,
            "concurrency": self.concurrency,
            "ttft_s": self.ttft_s,
            "tpot_s": self.tpot_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "total_tokens_per_s": self.total_tokens_per_s,
            "output_tokens_per_s_per_user": self.output_tokens_per_s_per_user,
            "bound": self.bound,
            "source": self.source,
            "provenance": self.provenance.value,
            "fits": self.fits,
            "notes": list(self.notes),
        }
        if self.simulated is not None:
            out.update(self.simulated.to_dict())
        if ops:
            out["ops"] = {
                name: _ops(step)
                for name, step in (
                    ("decode_step", self.decode_step),
                    ("prefill", self.prefill_step),
                )
            }
        return out


def _ops(step: StepTime) -> dict[str, Any]:
    return {
        "seconds": step.seconds,
        "communication_s": step.comm_s,
        "overhead_s": step.overhead_s,
        "bound": step.bound,
        "ops": [
            {
                "name": o.op.name,
                "flops": o.op.flops,
                "weight_bytes": o.op.weight_bytes,
                "kv_bytes": o.op.kv_bytes,
                "act_bytes": o.op.act_bytes,
                "compute_s": o.compute_s,
                "memory_s": o.memory_s,
                "bound": o.bound,
            }
            for o in step.ops
        ],
    }
