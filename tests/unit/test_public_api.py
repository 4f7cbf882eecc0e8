"""The public surface is pinned, and the core never imports the CLI."""

from __future__ import annotations

import subprocess
import sys

import deepfit


def test_all_is_pinned() -> None:
    assert sorted(deepfit.__all__) == sorted(
        [
            "Architecture",
            "BadInputError",
            "ConfigError",
            "DeepfitError",
            "Gpu",
            "InfeasibleError",
            "MemoryEstimate",
            "Model",
            "ParamBreakdown",
            "PerfEstimate",
            "TrainEstimate",
            "UnknownGpuError",
            "UnknownModelError",
            "UnsupportedArchitectureError",
            "__version__",
            "catalog_summary",
            "count_params",
            "errors",
            "estimate_memory",
            "estimate_perf",
            "estimate_training",
            "list_gpus",
            "load_gpu",
            "load_model",
            "model_from_config",
            "what_would_fit",
        ]
    )
    for name in deepfit.__all__:
        assert hasattr(deepfit, name)


def test_core_imports_no_cli_rich_or_heavy_libraries() -> None:
    code = (
        "import sys, deepfit; deepfit.load_model('deepseek-v3').params; deepfit.load_gpu('H100');"
        "bad = [m for m in ('deepfit.cli', 'rich', 'torch', 'transformers', 'numpy',"
        " 'huggingface_hub') if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
