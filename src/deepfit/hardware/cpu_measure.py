"""Measure this machine's memory bandwidth and matmul throughput, and cache the result.

The GPU name ``cpu`` has no datasheet, so its bandwidth and FLOP/s come from a short
measurement with numpy (an optional dependency: ``pip install 'deepfit[measure]'``):

- read bandwidth: the best of several multi-threaded ``numpy.sum`` passes over a float64
  array sized to be larger than the last-level cache (capped at 512 MiB, and at what can be
  touched within the time budget);
- copy bandwidth: ``numpy.copyto`` between two halves of that array, counting bytes read
  plus bytes written (the STREAM convention; write-allocate traffic is not counted);
- fp32 matmul: the best of repeated ``numpy.matmul`` calls on n x n float32 matrices
  (n <= 2048), 2 n^3 FLOP each, on however many threads numpy's BLAS uses.

numpy's fp16 matmul is a software loop (hundreds of times slower than fp32) and numpy has
no bf16, so those are measured only with ``use_torch=True`` when PyTorch is installed.
These are achieved rates, not vendor peaks. The cache is one JSON file keyed by CPU model
and core count; see :func:`cache_path`.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deepfit.errors import BadInputError
from deepfit.hardware.cpu_info import core_count, cpu_model_and_vendor
from deepfit.hardware.gpu import COMPUTE_FORMATS
from deepfit.units import MiB

CACHE_DIR_ENV = "DEEPFIT_CACHE_DIR"
CACHE_FILE = "cpu.json"
CACHE_FORMAT = 1
INSTALL_HINT = "pip install 'deepfit[measure]'"
_MAX_ARRAY_BYTES = 512 * MiB  # keeps the whole measurement under 1 GiB of RAM
_MIN_ARRAY_BYTES = 16 * MiB
_FILL_CHUNK_BYTES = 8 * MiB
_MATMUL_SIZES = (512, 1024, 1536, 2048)
# Shares of the time budget; fixed minimum repeats and numpy's import come on top.
_FILL_SHARE, _READ_SHARE, _COPY_SHARE, _MATMUL_SHARE = 0.35, 0.2, 0.15, 0.3


@dataclass(frozen=True)
class CpuMeasurement:
    """What one run of :func:`measure_cpu` found. Rates are SI: bytes/s and FLOP/s.

    ``matmul_flops_per_s`` maps compute formats (``fp32``, and ``bf16``/``fp16`` only when
    measured natively) to the best achieved dense matmul rate. ``threads`` is the number of
    worker threads of the bandwidth passes; ``blas_threads`` is what numpy's BLAS reported
    (``None`` when threadpoolctl is not installed to ask it).
    """

    cpu_model: str
    logical_cores: int | None
    stream_bandwidth_bytes_per_s: float
    copy_bandwidth_bytes_per_s: float
    matmul_flops_per_s: dict[str, float]
    threads: int
    blas_threads: int | None
    array_bytes: int
    matmul_size: int
    last_level_cache_bytes: int | None
    numpy_version: str
    blas: str
    torch_version: str | None
    measured_at: str
    seconds: float
    notes: tuple[str, ...] = field(default=())
    #: how much slower the median repeat was than the best, per figure (0.05 = 5%): the
    #: measurement's noise; a busy machine shows it
    spread: dict[str, float] = field(default_factory=dict)
    #: the 1-minute load average when the measurement started (None where unknown)
    load_average: float | None = None

    @property
    def date(self) -> str:
        """The UTC date of the measurement, ``YYYY-MM-DD``."""
        return self.measured_at[:10]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (SI units)."""
        data = asdict(self)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> CpuMeasurement:
        """The inverse of :meth:`to_dict`; raises :class:`BadInputError` on anything else."""
        if not isinstance(data, dict):
            raise _bad("a measurement must be a JSON object")
        try:
            flops = data["matmul_flops_per_s"]
            if not isinstance(flops, dict) or not all(f in COMPUTE_FORMATS for f in flops):
                raise _bad("matmul_flops_per_s must map compute formats to FLOP/s")
            return cls(
                cpu_model=_typed(data, "cpu_model", str),
                logical_cores=_typed(data, "logical_cores", int, optional=True),
                stream_bandwidth_bytes_per_s=_rate(data["stream_bandwidth_bytes_per_s"]),
                copy_bandwidth_bytes_per_s=_rate(data["copy_bandwidth_bytes_per_s"]),
                matmul_flops_per_s={str(f): _rate(v) for f, v in flops.items()},
                threads=_typed(data, "threads", int),
                blas_threads=_typed(data, "blas_threads", int, optional=True),
                array_bytes=_typed(data, "array_bytes", int),
                matmul_size=_typed(data, "matmul_size", int),
                last_level_cache_bytes=_typed(data, "last_level_cache_bytes", int, optional=True),
                numpy_version=_typed(data, "numpy_version", str),
                blas=_typed(data, "blas", str),
                torch_version=_typed(data, "torch_version", str, optional=True),
                measured_at=_typed(data, "measured_at", str),
                seconds=_rate(data["seconds"]),
                notes=tuple(str(n) for n in data.get("notes", [])),
                spread={str(k): _fraction(v) for k, v in dict(data.get("spread") or {}).items()},
                load_average=None
                if data.get("load_average") is None
                else _fraction(data["load_average"]),
            )
        except KeyError as exc:
            raise _bad(f"a measurement lacks {exc.args[0]!r}") from None


def measure_cpu(seconds: float = 2.0, *, use_torch: bool = False) -> CpuMeasurement:
    """Measure read/copy bandwidth and fp32 matmul throughput in about ``seconds``.

    Takes at most ~3 x ``seconds`` plus numpy's import (and PyTorch's, with ``use_torch``,
    which adds bf16/fp16 matmul rates), and at most ~600 MiB of RAM. Raises
    :class:`BadInputError` when numpy is not installed or ``seconds`` is not positive.
    """
    if not seconds > 0:
        raise BadInputError(f"seconds={seconds!r} must be positive", hint="use e.g. 2.0")
    np = _import_numpy()
    threads = core_count() or 1
    llc = last_level_cache_bytes()
    load = _load_average()
    notes = _busy_note(threads, load)
    spread: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        buf = _filled_array(np, llc, seconds * _FILL_SHARE)
        read, spread["read_bandwidth"] = _read_bandwidth(
            np, pool, buf, threads, seconds * _READ_SHARE
        )
        copy, spread["copy_bandwidth"] = _copy_bandwidth(
            np, pool, buf, threads, seconds * _COPY_SHARE
        )
    array_bytes = int(buf.nbytes)
    del buf
    if llc is not None and array_bytes < 4 * llc:
        notes.append(
            f"the {array_bytes / MiB:.0f} MiB array is not much larger than the "
            f"{llc / MiB:.0f} MiB last-level cache, so the bandwidth may include cache hits"
        )
    torch = _import_torch(notes) if use_torch else None
    share = seconds * _MATMUL_SHARE / (3 if torch is not None else 1)
    (fp32, spread["fp32_matmul"]), n = _numpy_matmul_rate(np, share)
    flops = {"fp32": fp32, **(_torch_matmul_rates(torch, share) if torch is not None else {})}
    if torch is None:
        notes.append("bf16/fp16 not measured: numpy has no bf16 and emulates fp16 matmul")
    model, _ = cpu_model_and_vendor()
    return CpuMeasurement(
        cpu_model=model,
        logical_cores=core_count(),
        stream_bandwidth_bytes_per_s=read,
        copy_bandwidth_bytes_per_s=copy,
        matmul_flops_per_s=flops,
        threads=threads,
        blas_threads=_blas_threads(),
        array_bytes=array_bytes,
        matmul_size=n,
        last_level_cache_bytes=llc,
        numpy_version=str(np.__version__),
        blas=_blas_name(np),
        torch_version=None if torch is None else str(torch.__version__),
        measured_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        seconds=float(seconds),
        notes=tuple(notes),
        spread=spread,
        load_average=load,
    )


# --- cache --------------------------------------------------------------------------------


def cache_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DEEPFIT_CACHE_DIR/cpu.json``, else ``$XDG_CACHE_HOME/deepfit/cpu.json``, else
    ``~/.cache/deepfit/cpu.json``."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV, "").strip():
        return Path(env[CACHE_DIR_ENV].strip()).expanduser() / CACHE_FILE
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "deepfit" / CACHE_FILE


def cache_key() -> str:
    """This machine's entry in the cache: CPU model and logical core count."""
    return f"{cpu_model_and_vendor()[0]} / {core_count() or 'unknown'} cores"


def cached_measurement(
    measure_if_missing: bool,
    *,
    seconds: float = 2.0,
    environ: Mapping[str, str] | None = None,
) -> CpuMeasurement | None:
    """This machine's cached measurement; if there is none (or the file is unreadable or
    corrupt) and ``measure_if_missing``, measure now and cache the result, else ``None``.

    Raises :class:`BadInputError` only when a measurement is needed and numpy is missing.
    """
    found = _read_cache(cache_path(environ)).get(cache_key())
    if found is not None:
        try:
            return CpuMeasurement.from_dict(found)
        except BadInputError:
            pass  # a corrupt entry is measured again
    if not measure_if_missing:
        return None
    measurement = measure_cpu(seconds)
    save_measurement(measurement, environ=environ)
    return measurement


def save_measurement(
    measurement: CpuMeasurement, *, environ: Mapping[str, str] | None = None
) -> Path | None:
    """Write ``measurement`` as this machine's entry (atomically: temp file + os.replace).

    Returns the file, or ``None`` if it could not be written (the cache is optional).
    """
    path = cache_path(environ)
    entries = _read_cache(path)
    entries[cache_key()] = measurement.to_dict()
    text = json.dumps({"format": CACHE_FORMAT, "machines": entries}, indent=2, sort_keys=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".cpu.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return None
    return path


def _read_cache(path: Path) -> dict[str, Any]:
    """The file's entries by machine key; ``{}`` for a missing, unreadable or corrupt file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    machines = data.get("machines")
    if not isinstance(machines, dict):
        return {}
    return {str(k): v for k, v in machines.items()}


# --- measurement helpers ------------------------------------------------------------------


def _load_average() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _busy_note(threads: int, load: float | None) -> list[str]:
    """A note when other work competes for the cores (it lowers every figure, BLAS most)."""
    if load is None or load < 0.5 * threads:
        return []
    return [f"the machine was busy (1-minute load average {load:.1f} on {threads} cores)"]


def _import_numpy() -> Any:
    try:
        return importlib.import_module("numpy")
    except ImportError:
        raise BadInputError(
            "measuring this machine needs numpy, which is not installed", hint=INSTALL_HINT
        ) from None


def _import_torch(notes: list[str]) -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError:
        notes.append("use_torch was asked for but PyTorch is not installed")
        return None


def _best_rate(run: Callable[[], object], work: float, budget_s: float) -> tuple[float, float]:
    """``work`` / the fastest of at least 3 calls of ``run``, repeated within ``budget_s``,
    and the spread: how much slower the median call was than the fastest (a fraction)."""
    times: list[float] = []
    start = time.perf_counter()
    for repeat in range(100):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        if repeat >= 2 and time.perf_counter() - start > budget_s:
            break
    best = max(min(times), 1e-9)
    median = sorted(times)[len(times) // 2]
    return work / best, max(median / best - 1.0, 0.0)


def _filled_array(np: Any, llc: int | None, budget_s: float) -> Any:
    """A float64 array of up to 512 MiB (4 x the LLC wanted), as much as can be written
    within ``budget_s`` (first-touch page faults are slow on some VMs), at least 16 MiB."""
    wanted = min(_MAX_ARRAY_BYTES, max(64 * MiB, 4 * (llc or 0)))
    buf = np.empty(wanted // 8, dtype=np.float64)  # untouched pages cost no RAM
    chunk = _FILL_CHUNK_BYTES // 8
    done, start = 0, time.perf_counter()
    while done < buf.size:
        buf[done : done + chunk] = 1.0
        done = min(buf.size, done + chunk)
        if done * 8 >= _MIN_ARRAY_BYTES and time.perf_counter() - start > budget_s:
            break
    return buf[:done]


def _read_bandwidth(
    np: Any, pool: ThreadPoolExecutor, buf: Any, threads: int, s: float
) -> tuple[float, float]:
    parts = np.array_split(buf, threads)
    return _best_rate(lambda: list(pool.map(np.sum, parts)), float(buf.nbytes), s)


def _copy_bandwidth(
    np: Any, pool: ThreadPoolExecutor, buf: Any, threads: int, s: float
) -> tuple[float, float]:
    half = buf.size // 2
    src, dst = np.array_split(buf[:half], threads), np.array_split(buf[half : 2 * half], threads)
    return _best_rate(lambda: list(pool.map(np.copyto, dst, src)), 2.0 * half * 8, s)


def _pick_size(run_at: Callable[[int], float], budget_s: float) -> int:
    """The largest matmul size whose 3 repeats fit in half the budget, from the faster of
    two timed 512 x 512 calls (the first also wakes the BLAS threads)."""
    seconds_at_512 = max(min(run_at(512), run_at(512)), 1e-6)
    fits = [n for n in _MATMUL_SIZES if 3 * seconds_at_512 * (n / 512) ** 3 <= budget_s / 2]
    return max(fits, default=_MATMUL_SIZES[0])


def _numpy_matmul_rate(np: Any, budget_s: float) -> tuple[tuple[float, float], int]:
    rng = np.random.default_rng(0)

    def run_at(n: int) -> float:
        a = rng.standard_normal((n, n), dtype=np.float32)
        t0 = time.perf_counter()
        np.matmul(a, a)
        return time.perf_counter() - t0

    n = _pick_size(run_at, budget_s)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), dtype=np.float32)
    return _best_rate(lambda: np.matmul(a, b, out=out), 2.0 * n**3, budget_s), n


def _torch_matmul_rates(torch: Any, budget_s: float) -> dict[str, float]:
    formats = {"bf16": torch.bfloat16, "fp16": torch.float16}
    return {fmt: _torch_matmul_rate(torch, dtype, budget_s) for fmt, dtype in formats.items()}


def _torch_matmul_rate(torch: Any, dtype: Any, budget_s: float) -> float:
    def run_at(n: int) -> float:
        a = torch.randn(n, n).to(dtype)
        t0 = time.perf_counter()
        torch.matmul(a, a)
        return time.perf_counter() - t0

    n = _pick_size(run_at, budget_s)
    a, b = (torch.randn(n, n).to(dtype) for _ in range(2))
    return _best_rate(lambda: torch.matmul(a, b), 2.0 * n**3, budget_s)[0]


def _blas_name(np: Any) -> str:
    try:  # numpy >= 1.25
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError, AttributeError):
        return "unknown"


def _blas_threads() -> int | None:
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return None
    pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
    return int(pools[0]["num_threads"]) if pools else None


def last_level_cache_bytes() -> int | None:
    """The largest CPU cache in bytes (Linux sysfs, else sysconf); ``None`` if unknown."""
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text(encoding="ascii").strip()
        except OSError:
            continue
        units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
        if text[:-1].isdigit() and text[-1] in units:
            sizes.append(int(text[:-1]) * units[text[-1]])
        elif text.isdigit():
            sizes.append(int(text))
    if not sizes and "SC_LEVEL3_CACHE_SIZE" in os.sysconf_names:
        sizes.append(os.sysconf("SC_LEVEL3_CACHE_SIZE"))
    return max(sizes) if sizes and max(sizes) > 0 else None


def _typed(data: dict[str, Any], key: str, kind: type, optional: bool = False) -> Any:
    value = data[key]
    if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise _bad(f"{key!r} must be {kind.__name__}")


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
        raise _bad(f"a spread must be a number >= 0, not {value!r}")
    return float(value)


def _rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _bad(f"{value!r} is not a positive number")
    if value == float("inf"):
        raise _bad("a rate cannot be infinite")
    return float(value)


def _bad(message: str) -> BadInputError:
    return BadInputError(f"cached CPU measurement: {message}", hint="delete the cache file")
