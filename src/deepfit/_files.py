"""The one way deepfit reads a user's file and checks where it will write one.

Every reader of a path the user names goes through :func:`read_text` / :func:`read_bytes`:
regular files only (a FIFO, ``/dev/zero`` or a folder is refused before anything is read:
the file is opened non-blocking and checked with ``fstat``), a size cap (at most
``max_bytes + 1`` bytes are ever read), strict decoding, and one clear error with a hint
(a :class:`~deepfit.errors.BadInputError`, so the CLI exits 2). ``-`` reads standard input,
bounded the same way.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BadInputError

MiB = 1 << 20
DEFAULT_MAX_BYTES = 64 * MiB


def read_bytes(
    path: str | Path,
    what: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hint: str = "check the path",
    error: type[BadInputError] = BadInputError,
    stdin: bool = False,
) -> bytes:
    """The bytes of the regular file ``path`` (``what`` names it in errors, e.g. "plan
    file"), at most ``max_bytes`` of them; ``stdin`` lets ``-`` mean standard input."""
    if stdin and str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        return _capped(data, f"{what} on standard input", max_bytes, error)
    name = f"{what} {str(path)[:200]!r}"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:
        raise error(f"cannot read {name}: {_why(exc)}", hint) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise error(f"{name} is {kind}", hint)
        if info.st_size > max_bytes:
            raise error(f"{name} is {info.st_size:,} bytes, over the {max_bytes:,} allowed", hint)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(MiB, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return _capped(b"".join(chunks), name, max_bytes, error)
    except OSError as exc:
        raise error(f"cannot read {name}: {_why(exc)}", hint) from None
    finally:
        os.close(fd)


def read_text(
    path: str | Path,
    what: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hint: str = "check the path",
    error: type[BadInputError] = BadInputError,
    stdin: bool = False,
) -> str:
    """The text of ``path`` as strict UTF-8 (a leading byte-order mark is dropped), with
    ``\r\n`` and ``\r`` line ends read as ``\n`` (as Python's text files read them)."""
    data = read_bytes(path, what, max_bytes=max_bytes, hint=hint, error=error, stdin=stdin)
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise error(
            f"{what} {str(path)[:200]!r} is not UTF-8 text (byte {exc.start})",
            "save it as UTF-8",
        ) from None


def check_output(path: str | Path, what: str) -> Path:
    """``path`` as a file deepfit may create or overwrite: not a folder, FIFO or device,
    in a folder that exists."""
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as exc:
        raise BadInputError(
            f"cannot write {what} {str(p)[:200]!r}: {_why(exc)}", "choose another path"
        ) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise BadInputError(f"{what} {str(p)[:200]!r} is {kind}", "name a file to write")
    if not p.parent.is_dir():
        raise BadInputError(
            f"cannot write {what} {str(p)[:200]!r}: its folder does not exist",
            "create the folder first or choose another path",
        )
    return p


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on ``path.lock`` beside it) while the body runs:
    a read-modify-write of a file other processes update too (the user's caches and
    calibration profile) then loses no one's update. Where the platform has no ``flock``
    the body runs unlocked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # Windows
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` at once (temp file in the same folder + rename): a reader
    sees the old file or the new one, never half of one."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _capped(data: bytes, name: str, max_bytes: int, error: type[BadInputError]) -> bytes:
    if len(data) > max_bytes:
        raise error(f"{name} is over the {max_bytes:,} bytes allowed", "pass a smaller file")
    return data


def _why(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))[:200]
