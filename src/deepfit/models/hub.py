"""Fetching a ``config.json`` that is not bundled from the Hugging Face Hub.

Only ``config.json`` is fetched, with a short timeout and a size cap, through
``huggingface_hub`` (an optional dependency) which caches it. Nothing in it is executed:
``auto_map`` and custom code are ignored, ``trust_remote_code`` does not exist here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import OfflineError
from .config import MAX_CONFIG_BYTES, read_config_file

TIMEOUT_S = 10.0


def _offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in ("HF_HUB_OFFLINE", "DEEPFIT_OFFLINE")
    )


def fetch_config(repo_id: str, revision: str | None = None) -> dict[str, Any]:
    """Download (or read from the local Hub cache) ``repo_id``'s config.json."""
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    except ImportError:
        raise OfflineError(
            f"'{repo_id}' is not bundled and huggingface_hub is not installed",
            "pip install 'deepfit[hub]', or pass a path to the model's config.json",
        ) from None
    try:
        if _offline():
            path = hf_hub_download(repo_id, "config.json", revision=revision, local_files_only=True)
        else:
            meta = get_hf_file_metadata(
                hf_hub_url(repo_id, "config.json", revision=revision), timeout=TIMEOUT_S
            )
            if meta.size is not None and meta.size > MAX_CONFIG_BYTES:
                raise OfflineError(
                    f"{repo_id}/config.json is {meta.size:,} bytes, not a model config",
                    "pass a path to the model's config.json",
                )
            path = hf_hub_download(
                repo_id, "config.json", revision=revision, etag_timeout=TIMEOUT_S
            )
    except OfflineError:
        raise
    except Exception as exc:  # any failure to fetch (HTTP, DNS, timeout, cache) is one answer
        why = (
            "offline, and it is not in the local Hub cache"
            if _offline()
            else (str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__)
        )
        raise OfflineError(
            f"cannot fetch config.json of '{repo_id}' from the Hugging Face Hub: {why}",
            "check the id and your network (gated models need `hf auth login`), "
            "or pass a path to a downloaded config.json",
        ) from None
    return read_config_file(Path(str(path)))
