"""The user's calibration profile: efficiency factors fitted from their own bench runs,
keyed by engine and GPU, with a record of what each fit was made from.

Location: ``$DEEPFIT_CONFIG_DIR/calibration.json`` when that variable is set, else
``$XDG_CONFIG_HOME/deepfit/calibration.json`` (``~/.config/deepfit`` without XDG).
A missing or unreadable profile means "no calibration": perf answers fall back to the
bundled factors, never fail.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import BadInputError

CONFIG_DIR_ENV = "DEEPFIT_CONFIG_DIR"
FILE_NAME = "calibration.json"
FORMAT = 1
FACTOR_NAMES = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "step_overhead_s",
    "token_overhead_s",
    "collective_latency_s",
    "comm_efficiency",
    "moe_efficiency",
)


def profile_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CONFIG_DIR_ENV):
        return Path(env[CONFIG_DIR_ENV]) / FILE_NAME
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "deepfit" / FILE_NAME


def profile_key(engine: str, gpu_name: str) -> str:
    """``engine@gpu``, both in deepfit's canonical spelling (lower case)."""
    return f"{_engine(engine)}@{gpu_name.strip().lower()}"


def _engine(engine: str) -> str:
    from ..engines import load_engine

    try:
        return load_engine(engine).name
    except Exception:  # an unknown engine is not calibrated; estimate_perf says why
        return engine.strip().lower()


def load_profile(path: Path | None = None) -> dict[str, Any]:
    """The whole profile (``{"format": 1, "entries": {key: entry}}``); empty if absent."""
    p = path or profile_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {"format": FORMAT, "entries": {}}
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        return {"format": FORMAT, "entries": {}}
    return data


def profile_overrides(
    engine: str, gpu_name: str, path: Path | None = None
) -> dict[str, float] | None:
    """The calibrated factors for ``engine`` on ``gpu_name`` (a ``Gpu.name``), ready for
    ``estimate_perf(..., efficiency=...)``; None where nothing was calibrated."""
    entry = load_profile(path)["entries"].get(profile_key(engine, gpu_name))
    if not isinstance(entry, dict) or not isinstance(entry.get("factors"), dict):
        return None
    factors = {
        k: float(v)
        for k, v in entry["factors"].items()
        if k in FACTOR_NAMES and isinstance(v, (int, float))
    }
    return factors or None


def save_entry(engine: str, gpu_name: str, entry: dict[str, Any], path: Path | None = None) -> Path:
    """Store one fit (``{"factors": {...}, ...}``) under its key, atomically."""
    p = path or profile_path()
    data = load_profile(p)
    data["format"] = FORMAT
    data["entries"][profile_key(engine, gpu_name)] = entry
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".calibration-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, p)
    except OSError as exc:
        raise BadInputError(
            f"cannot write the calibration profile {p}: {exc}",
            f"set {CONFIG_DIR_ENV} to a writable folder",
        ) from exc
    return p


def remove_entry(engine: str, gpu_name: str, path: Path | None = None) -> bool:
    """Forget one calibration; True if there was one."""
    p = path or profile_path()
    data = load_profile(p)
    if data["entries"].pop(profile_key(engine, gpu_name), None) is None:
        return False
    p.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return True
