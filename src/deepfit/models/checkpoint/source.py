"""Bounded byte-range reads from a local file or an HTTP(S) URL.

Checkpoint headers sit at the start of multi-gigabyte files; only they are read. Every read
names its range; an HTTP server that ignores ``Range`` is read only up to the asked length
and the connection is closed, so no more than the header ever crosses the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...errors import BadInputError, OfflineError

TIMEOUT_S = 15.0


class RangeSource(Protocol):
    """Something whose bytes can be read by range."""

    @property
    def name(self) -> str: ...

    def read(self, offset: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class FileSource:
    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def read(self, offset: int, length: int) -> bytes:
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        except OSError as exc:
            raise BadInputError(
                f"cannot read {self.path}: {exc.strerror or exc}", "check the path"
            ) from None


def _headers() -> dict[str, str]:
    token = os.environ.get("HF_TOKEN", "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass(frozen=True)
class HttpSource:
    url: str

    @property
    def name(self) -> str:
        return self.url

    def read(self, offset: int, length: int) -> bytes:
        import httpx

        if length <= 0:
            return b""
        headers = {**_headers(), "Range": f"bytes={offset}-{offset + length - 1}"}
        try:
            with (
                httpx.Client(timeout=TIMEOUT_S, follow_redirects=True) as client,
                client.stream("GET", self.url, headers=headers) as resp,
            ):
                if resp.status_code not in (200, 206):
                    raise OfflineError(
                        f"{self.url} answered HTTP {resp.status_code}",
                        "check the URL (gated models need HF_TOKEN)",
                    )
                skip = offset if resp.status_code == 200 else 0  # the server ignored Range
                return _take(resp.iter_bytes(), skip, length)
        except httpx.HTTPError as exc:
            raise OfflineError(
                f"cannot read {self.url}: {type(exc).__name__}",
                "check the URL and your network, or pass a local file",
            ) from None


def _take(chunks: object, skip: int, length: int) -> bytes:
    """``length`` bytes after skipping ``skip``, then stop reading."""
    out = bytearray()
    for chunk in chunks:  # type: ignore[attr-defined]
        if skip:
            cut = min(skip, len(chunk))
            chunk, skip = chunk[cut:], skip - cut
        out += chunk[: length - len(out)]
        if len(out) >= length:
            break
    return bytes(out)


def open_source(location: str) -> RangeSource:
    """A local path or an http(s) URL."""
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    path = Path(location).expanduser()
    if not path.is_file():
        raise BadInputError(f"{location} is not a file", "pass a .safetensors or .gguf file")
    return FileSource(path)


def fetch_small(url: str, limit: int) -> bytes:
    """A whole small file (an index JSON) over HTTP, refused beyond ``limit`` bytes."""
    data = HttpSource(url).read(0, limit + 1)
    if len(data) > limit:
        raise BadInputError(f"{url} is larger than {limit:,} bytes", "pass the index JSON file")
    return data
