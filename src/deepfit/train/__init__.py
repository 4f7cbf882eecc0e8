"""Training and fine-tuning: memory per GPU, host RAM, GPU count, time, cost, launch configs.

>>> from deepfit.models import load_model
>>> from deepfit.hardware import load_gpu
>>> from deepfit.train import estimate_training
>>> est = estimate_training(load_model("deepseek-7b"), load_gpu("A100-80GB"), 8, zero=2)
>>> est.fits
True
"""

from __future__ import annotations

from . import launch, search
from .activations import ActShape, layer_activation_bytes, logits_bytes
from .estimate import MemoryPerGpu, TrainEstimate, Workload, estimate_training
from .flops import TokenFlops, flops_per_token, matmul_params
from .framework import Framework, Runtime, find_framework
from .layout import TrainLayout, make_train_layout
from .lora import TARGETS, LoraConfig, lora_params
from .methods import Method, Offload, Optimizer, Recompute, find_optimizer
from .mfu import MfuFit, mfu_for
from .reference import reference_model, training_model
from .search import SearchResult, fastest_layout, min_gpus, what_would_fit
from .states import ModelStates, Recipe, model_states

__all__ = [
    "TARGETS",
    "ActShape",
    "Framework",
    "LoraConfig",
    "MemoryPerGpu",
    "Method",
    "MfuFit",
    "ModelStates",
    "Offload",
    "Optimizer",
    "Recipe",
    "Recompute",
    "Runtime",
    "SearchResult",
    "TokenFlops",
    "TrainEstimate",
    "TrainLayout",
    "Workload",
    "estimate_training",
    "fastest_layout",
    "find_framework",
    "find_optimizer",
    "flops_per_token",
    "launch",
    "layer_activation_bytes",
    "logits_bytes",
    "lora_params",
    "make_train_layout",
    "matmul_params",
    "mfu_for",
    "min_gpus",
    "model_states",
    "reference_model",
    "search",
    "training_model",
    "what_would_fit",
]
