"""Imports only point down: the rules of tests/layering.py hold on the real source, and the
checker catches each kind of break when one is fed to it."""

from __future__ import annotations

from pathlib import Path

from tests.layering import cycles, import_graph, layer_violations

ROOT = Path(__file__).resolve().parents[2] / "src" / "deepfit"


def test_the_source_keeps_the_layers_and_has_no_circles() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100  # every module was read
    assert "deepfit.memory.api" in graph["deepfit.perf.api"]  # edges are resolved
    assert layer_violations(graph) == []
    assert cycles(graph) == []


def test_imports_inside_functions_are_seen() -> None:
    source = "def f():\n    from ..cli import main\n    return main\n"
    graph = import_graph(ROOT, {"deepfit.memory.sneaky": source})
    assert "deepfit.cli.main" in graph["deepfit.memory.sneaky"]


def test_a_core_module_importing_the_cli_fails() -> None:
    graph = import_graph(ROOT, {"deepfit.perf.bad": "def f():\n    import deepfit.cli.main\n"})
    assert layer_violations(graph) == [
        "deepfit.perf.bad -> deepfit.cli.main (the core imports no cli, web or measure)"
    ]


def test_the_core_importing_measure_fails() -> None:
    graph = import_graph(ROOT, {"deepfit.memory.bad": "from ..measure.profile import load_profile"})
    assert any("deepfit.measure.profile" in v for v in layer_violations(graph))


def test_models_importing_upwards_fails() -> None:
    graph = import_graph(ROOT, {"deepfit.models.bad": "from ..memory import estimate_memory\n"})
    assert layer_violations(graph) == [
        "deepfit.models.bad -> deepfit.memory (deepfit.models imports nothing above it)"
    ]


def test_a_circle_fails() -> None:
    graph = import_graph(
        ROOT,
        {
            "deepfit.planner.ring_a": "from .ring_b import x\n",
            "deepfit.planner.ring_b": "def g():\n    from . import ring_a\n",
        },
    )
    assert graph["deepfit.planner.ring_b"] == {"deepfit.planner.ring_a"}
    assert cycles(graph) == [["deepfit.planner.ring_a", "deepfit.planner.ring_b"]]
