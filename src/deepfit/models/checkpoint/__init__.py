"""Exact weight bytes from checkpoint headers, without downloading weights.

- A local or remote ``.safetensors`` file: its JSON header (two ranged reads).
- A Hugging Face repository (``--hub``): ``model.safetensors.index.json``, then each shard's
  header by ranged reads (``HF_ENDPOINT`` and ``HF_TOKEN`` are honoured).
- A local or remote ``.gguf`` file: its metadata and tensor records.

Bytes are summed per dtype (GGUF: per ggml type); multi-token-prediction tensors (DeepSeek's
``mtp.*`` and ``model.layers.N`` past the main stack, GGUF ``nextn``) are counted apart.
Summaries are cached by location (``$DEEPFIT_CACHE_DIR/checkpoints``); nothing past the
headers is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...errors import BadInputError, OfflineError
from . import gguf, safetensors
from .safetensors import TensorEntry
from .source import fetch_small, open_source

__all__ = ["CheckpointBytes", "TensorEntry", "hub_checkpoint", "read_checkpoint", "summarize"]

MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_SHARDS = 4096
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")


@dataclass(frozen=True)
class CheckpointBytes:
    """Bytes of a checkpoint's tensors as stored, main model and MTP apart."""

    source: str
    main_bytes: int
    mtp_bytes: int
    tensors: int
    bytes_by_dtype: dict[str, int] = field(default_factory=dict)
    files: int = 1

    @property
    def total_bytes(self) -> int:
        return self.main_bytes + self.mtp_bytes

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_bytes": self.total_bytes}


def _is_mtp(name: str, num_layers: int | None) -> bool:
    if name.startswith("mtp.") or ".nextn." in name:
        return True
    m = _LAYER.search(name)
    return num_layers is not None and m is not None and int(m.group(1)) >= num_layers


def summarize(
    source: str, entries: Iterable[TensorEntry], num_layers: int | None, files: int = 1
) -> CheckpointBytes:
    main = mtp = count = 0
    by_dtype: dict[str, int] = {}
    for t in entries:
        count += 1
        by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + t.nbytes
        if _is_mtp(t.name, num_layers):
            mtp += t.nbytes
        else:
            main += t.nbytes
    return CheckpointBytes(source, main, mtp, count, dict(sorted(by_dtype.items())), files)


def _cache_file(key: str) -> Path | None:
    base = os.environ.get("DEEPFIT_CACHE_DIR", "").strip()
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        root = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
        base = str(root / "deepfit")
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return Path(base).expanduser() / "checkpoints" / f"{digest}.json"


def _cached(key: str) -> CheckpointBytes | None:
    path = _cache_file(key)
    try:
        if path is None or not path.is_file() or path.stat().st_size > 1 << 20:
            return None
        data = json.loads(path.read_text())
        if data.get("key") != key:
            return None
        return CheckpointBytes(**data["summary"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _store(key: str, summary: CheckpointBytes) -> None:
    path = _cache_file(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": key, "summary": asdict(summary)}))
    except OSError:
        pass  # a cache that cannot be written is only a cache


def _local_key(location: str) -> str:
    path = Path(location).expanduser()
    try:
        st = path.stat()
    except OSError:
        return location
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def read_checkpoint(location: str, num_layers: int | None = None) -> CheckpointBytes:
    """Bytes of one ``.safetensors`` or ``.gguf`` file (path or URL), from its header."""
    remote = location.startswith(("http://", "https://"))
    key = f"file|{location if remote else _local_key(location)}|{num_layers}"
    if (hit := _cached(key)) is not None:
        return hit
    source = open_source(location)
    if source.read(0, 4) == b"GGUF":
        entries = gguf.read_header(source).tensors
    else:
        entries = safetensors.read_header(source)
    summary = summarize(location, entries, num_layers)
    _store(key, summary)
    return summary


def _offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in ("HF_HUB_OFFLINE", "DEEPFIT_OFFLINE")
    )


def _shards(index: bytes, origin: str) -> list[str]:
    try:
        weight_map = json.loads(index)["weight_map"]
        names = sorted({str(v) for v in weight_map.values()})
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadInputError(
            f"{origin} is not a safetensors index", "expected a JSON object with a weight_map"
        ) from None
    if len(names) > MAX_SHARDS or any("/" in n or ".." in n for n in names):
        raise BadInputError(f"{origin} lists implausible shard names", "check the repository")
    return names


def hub_checkpoint(
    repo_id: str, revision: str | None = None, num_layers: int | None = None
) -> CheckpointBytes:
    """Bytes of a Hugging Face repository's safetensors, from the index and shard headers."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    base = f"{endpoint}/{repo_id}/resolve/{revision or 'main'}"
    key = f"hub|{base}|{num_layers}"
    if (hit := _cached(key)) is not None:
        return hit
    if _offline():
        raise OfflineError(
            f"offline, and the headers of {repo_id} are not in deepfit's cache",
            "run once online, or pass a local .safetensors/.gguf file",
        )
    try:
        shards = _shards(fetch_small(f"{base}/model.safetensors.index.json", MAX_INDEX_BYTES), base)
    except BadInputError:
        shards = ["model.safetensors"]  # a single-file checkpoint has no index
    entries: list[TensorEntry] = []
    for shard in shards:
        entries += safetensors.read_header(open_source(f"{base}/{shard}"))
    summary = summarize(f"{endpoint}/{repo_id}", entries, num_layers, files=len(shards))
    _store(key, summary)
    return summary
