"""LoRA adapters: which weight matrices get them and how many parameters they add.

A LoRA adapter on a ``rows x cols`` weight (outputs x inputs) adds ``A`` (``rank x cols``)
and ``B`` (``rows x rank``): ``rank * (rows + cols)`` trainable parameters (Hu et al. 2021).
Routed experts get one adapter per expert (PEFT's ``target_modules`` match every expert's
linear layers). The embedding and the head never get adapters here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInputError
from ..models.architecture import Architecture
from ..models.tensors import ATTENTION_ROLES, FFN_ROLES, Role, Tensor, tensors

#: Named target sets. ``all-linear`` is QLoRA's choice (Dettmers et al. 2023, sec. 4:
#: adapters on every linear layer are needed to match full fine-tuning); ``qv`` is the
#: original LoRA paper's.
TARGETS: dict[str, frozenset[Role]] = {
    "all-linear": ATTENTION_ROLES | FFN_ROLES,
    "attention": ATTENTION_ROLES,
    "qv": frozenset({Role.ATTN_Q, Role.ATTN_V, Role.MLA_Q_B, Role.MLA_KV_B}),
}


@dataclass(frozen=True)
class LoraConfig:
    """Adapter rank and the named set of target matrices (a key of :data:`TARGETS`)."""

    rank: int = 16
    targets: str = "all-linear"

    def __post_init__(self) -> None:
        if not 1 <= self.rank <= 65536:
            raise BadInputError(f"LoRA rank {self.rank} is out of range", "use 1 .. 65536")
        if self.targets not in TARGETS:
            raise BadInputError(
                f"unknown LoRA target set {self.targets!r}", f"use one of {', '.join(TARGETS)}"
            )

    def adapter_params(self, t: Tensor) -> int:
        """Trainable parameters the adapter on ``t`` adds (0 if ``t`` is not a target)."""
        if t.role not in TARGETS[self.targets]:
            return 0
        return self.rank * (t.rows + t.cols) * t.experts


def lora_params(arch: Architecture, cfg: LoraConfig) -> int:
    """Trainable LoRA parameters of the whole model (main stack, no MTP modules)."""
    return sum(cfg.adapter_params(t) for t in tensors(arch))
