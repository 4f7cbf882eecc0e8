"""The engine registry: every folder of this package holding an ``engine.json`` is an
engine; :func:`add_engine_folder` adds one from elsewhere (a plug-in or a test fixture).

Names are matched without case; aliases (``llama.cpp``, ``tensorrt-llm``...) live in each
engine's own data. An unknown name raises :class:`UnknownEngineError`; a damaged or
incomplete ``engine.json`` raises :class:`CatalogError` naming the file and the field.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import CatalogError, UnknownEngineError
from .spec import (
    BUDGETS,
    OVERHEAD_KINDS,
    PROFILED_TERMS,
    Engine,
    ExportRules,
    OverheadModel,
    ServingDefaults,
    WeightSupport,
)

DATA_FILE = "engine.json"
MAX_DATA_BYTES = 256 * 1024
EFFICIENCY_TERMS = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "step_overhead_s",
    "token_overhead_s",
    "collective_latency_s",
    "comm_efficiency",
    "moe_efficiency",
)

_extra: dict[str, Path] = {}  # folders added at run time, by engine name


def _read_json(text: str, where: str) -> dict[str, Any]:
    if len(text) > MAX_DATA_BYTES:
        raise CatalogError(f"{where} is larger than {MAX_DATA_BYTES} bytes", "reinstall deepfit")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{where} is not valid JSON: {exc}", "reinstall deepfit") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{where} is not a JSON object", "reinstall deepfit")
    return data


@lru_cache(maxsize=1)
def _defaults() -> dict[str, float]:
    text = resources.files(__package__).joinpath("defaults.json").read_text(encoding="utf-8")
    raw = _read_json(text, "engines/defaults.json")["efficiency"]
    return {k: float(raw[k]) for k in EFFICIENCY_TERMS}


@lru_cache(maxsize=1)
def _packaged() -> dict[str, tuple[dict[str, Any], str]]:
    """Engine name -> (its engine.json, importable hook module) for this package's folders."""
    out: dict[str, tuple[dict[str, Any], str]] = {}
    for entry in resources.files(__package__).iterdir():
        data = entry.joinpath(DATA_FILE)
        if entry.is_dir() and data.is_file():
            raw = _read_json(data.read_text(encoding="utf-8"), f"engines/{entry.name}")
            out[str(raw.get("name", "")).strip().lower()] = (raw, f"{__package__}.{entry.name}")
    return out


def _read_folder(path: Path) -> dict[str, Any]:
    """``path/engine.json``, read at most :data:`MAX_DATA_BYTES` (+1 to tell it is too big)."""
    try:
        with (path / DATA_FILE).open(encoding="utf-8") as fh:
            text = fh.read(MAX_DATA_BYTES + 1)
    except OSError as exc:
        raise CatalogError(
            f"cannot read {path / DATA_FILE}: {exc}", "give an engine folder"
        ) from None
    return _read_json(text, str(path / DATA_FILE))


def add_engine_folder(folder: str | Path) -> Engine:
    """Register the engine described by ``folder/engine.json``; its exporter hook, if any,
    is ``folder/__init__.py``, which is run (local code the caller chose). Returns the
    engine. A name already packaged cannot be replaced."""
    path = Path(folder)
    name = str(_read_folder(path).get("name", "")).strip().lower()
    if name in _packaged():
        raise CatalogError(f"engine '{name}' is already part of deepfit", "choose another name")
    _extra[name] = path
    _all.cache_clear()
    try:
        return load_engine(name)
    except Exception:  # a damaged folder must not break the packaged engines
        remove_engine_folder(name)
        raise


def remove_engine_folder(name: str) -> None:
    """Forget an engine added with :func:`add_engine_folder` (no-op if absent)."""
    if _extra.pop(name.strip().lower(), None) is not None:
        _all.cache_clear()


@lru_cache(maxsize=1)
def _all() -> dict[str, Engine]:
    raws: dict[str, tuple[dict[str, Any], str, str]] = {}
    for name, (raw, module) in _packaged().items():
        raws[name] = (raw, module.rsplit(".", 1)[-1], module)
    for name, path in _extra.items():
        raws[name] = (_read_folder(path), str(path), "")
    engines = [_build(raw, raws, folder, module) for raw, folder, module in raws.values()]
    return {e.name: e for e in sorted(engines, key=lambda e: (e.order, e.name))}


def engines() -> tuple[Engine, ...]:
    """Every engine, in display order."""
    return tuple(_all().values())


def engine_names() -> tuple[str, ...]:
    return tuple(_all())


def load_engine(name: str) -> Engine:
    """The engine called ``name`` (or one of its aliases)."""
    key = name.strip().lower()
    table = _all()
    if key in table:
        return table[key]
    for engine in table.values():
        if key in engine.aliases:
            return engine
    raise UnknownEngineError(f"unknown engine '{name}'", f"use one of: {', '.join(table)}")


def exporter_hook(engine: Engine) -> Callable[..., Any]:
    """The engine's ``export(deployment) -> Export`` function (from its folder's module)."""
    module = _hook_module(engine)
    hook = getattr(module, "export", None)
    if engine.export is None or not callable(hook):
        raise UnknownEngineError(
            f"deepfit cannot export for engine '{engine.name}'",
            f"use one of: {', '.join(e.name for e in engines() if e.export)}",
        )
    return hook  # type: ignore[no-any-return]


def prepare_hook(engine: Engine) -> Callable[..., Any] | None:
    """The engine's optional ``prepare(model, request, notes) -> request`` function."""
    hook = getattr(_hook_module(engine), "prepare", None)
    return hook if callable(hook) else None


def _hook_module(engine: Engine) -> ModuleType:
    if engine.module:
        return importlib.import_module(engine.module)
    init = Path(engine.folder) / "__init__.py"
    mod_name = f"deepfit_engine_{engine.name.replace('-', '_')}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, init)
    if spec is None or spec.loader is None or not init.is_file():
        return ModuleType(mod_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


class _Fields:
    """Field access on one engine.json that names the file and the field when one is
    missing or of the wrong type."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw, self.where = raw, where

    def __call__(self, key: str, kind: type | tuple[type, ...] = object) -> Any:
        if key not in self.raw:
            raise CatalogError(f"{self.where}: '{key}' is missing", "add it to engine.json")
        value = self.raw[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise CatalogError(f"{self.where}: '{key}' has the wrong type", "fix engine.json")
        return value

    def section(self, key: str) -> _Fields:
        return _Fields(self(key, dict), f"{self.where}.{key}")

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


def _build(
    raw: dict[str, Any],
    raws: Mapping[str, tuple[dict[str, Any], str, str]],
    folder: str,
    module: str,
) -> Engine:
    f = _Fields(raw, f"engine '{raw.get('name', folder)}' ({folder})")
    mem, eff = f.section("memory"), f.section("efficiency")
    budget = mem("budget", str)
    if budget not in BUDGETS:
        raise CatalogError(f"{mem.where}: unknown budget '{budget}'", f"use one of {BUDGETS}")
    gt = f.get("groundtruth") or {}
    engine = Engine(
        name=f("name", str).strip().lower(),
        label=f("label", str),
        family=f("family", str),
        order=f("order", int),
        aliases=tuple(a.lower() for a in f("aliases", list)),
        budget=budget,
        mla_latent=mem("mla_latent", bool),
        block_tokens=mem("block_tokens", int),
        max_batched_tokens=mem("max_batched_tokens", int),
        cudagraph_in_budget=mem("cudagraph_in_budget", bool),
        tensor_parallel=mem("tensor_parallel", bool),
        layer_offload=mem("layer_offload", bool),
        smaller_formats=tuple(str(x) for x in mem("smaller_formats", list)),
        overheads=_overheads(mem.section("overheads"), raws),
        serving=ServingDefaults(
            eff("max_num_seqs", int),
            eff("max_num_seqs_large_gpu", int),
            eff("large_gpu_bytes", int),
            eff("max_batched_tokens", int),
        ),
        efficiency_terms=_efficiency(eff),
        efficiency_fitted=bool(eff.get("fitted")),
        memory_fraction_default=mem.get("memory_fraction_default"),
        memory_fraction_by_tp=tuple(
            (int(t), float(x)) for t, x in mem.get("memory_fraction_by_tp", ())
        ),
        groundtruth_prefix=gt.get("prefix"),
        groundtruth_runtime=gt.get("runtime"),
        export=_export(f.section("export")) if "export" in raw else None,
        folder=folder,
        module=module,
    )
    if engine.uses_budget:
        engine.required_memory_fraction(1)  # a budget engine without a default is an error
    return engine


def _efficiency(eff: _Fields) -> dict[str, float]:
    values = dict(_defaults())
    fitted = eff.get("fitted") or {}
    values.update({k: float(v) for k, v in fitted.items() if k in EFFICIENCY_TERMS})
    return values


def _overheads(ov: _Fields, raws: Mapping[str, tuple[dict[str, Any], str, str]]) -> OverheadModel:
    kind = ov("kind", str)
    if kind not in OVERHEAD_KINDS:
        raise CatalogError(f"{ov.where}: unknown kind '{kind}'", f"use one of {OVERHEAD_KINDS}")
    if kind != "profiled":
        return OverheadModel(kind, {}, ov("non_torch_bytes", int))
    source = ov.get("terms_from")
    if source is not None:
        if source not in raws:
            raise CatalogError(f"{ov.where}: terms_from '{source}' is no engine", "fix it")
        fitted = _Fields(raws[source][0], f"engine '{source}'").section("memory").section("fitted")
    else:
        fitted = ov.section("terms")
    return OverheadModel("profiled", {k: float(fitted(k, (int, float))) for k in PROFILED_TERMS})


def _export(ex: _Fields) -> ExportRules:
    weights = {
        row: WeightSupport(spec.get("online"), spec.get("fallback"))
        for row, spec in ex("weights", dict).items()
    }
    return ExportRules(
        display=ex("display", str),
        targets=tuple(ex("targets", list)),
        setup=ex("setup", str),
        kv_cache_dtypes=dict(ex("kv_cache_dtypes", dict)),
        weights=weights,
        vendors=tuple(ex.get("vendors", ())),
        kv_needs=dict(ex.get("kv_needs", {})),
        dp_attention_for_mla=bool(ex.get("dp_attention_for_mla", False)),
        runs_bf16_without_hardware=bool(ex.get("runs_bf16_without_hardware", False)),
        weights_hint=ex.get("weights_hint"),
    )
