"""Real CPU end-to-end check: random-weight Llama models served by llama.cpp, loaded by
`deepfit bench`, compared with `deepfit perf --gpu cpu`, then calibrated.

    PYTHONPATH=src python benchmarks/cpu_e2e.py --work /tmp/deepfit-e2e \
        --llama-src /path/to/llama_cpp_python-0.3.x   # the unpacked sdist (its converter)

Needs transformers + torch (CPU), sentencepiece, and llama-cpp-python[server] (builds from
source, ~6 min on 2 cores). Nothing is downloaded: the tokenizer is trained on Python's
own sources, the models are random. Each model is converted to GGUF (f16) with the
converter in llama-cpp-python's sdist and served on 127.0.0.1 with 2 threads.
Prints measured vs predicted decode tokens/s before and after calibration.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {  # name: (hidden, layers, intermediate, heads, kv heads)
    "tiny": (256, 4, 704, 4, 4),
    "small": (1024, 12, 2816, 16, 8),
    "medium": (2048, 12, 5632, 16, 8),
}
VOCAB = 8000


def build_tokenizer(work: Path) -> Path:
    """A sentencepiece BPE (byte fallback) trained on the standard library's sources."""
    out = work / "tok.model"
    if out.exists():
        return out
    import sentencepiece as spm

    work.mkdir(parents=True, exist_ok=True)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(stdlib.glob("*.py"))[:120]
    spm.SentencePieceTrainer.train(
        input=",".join(map(str, files)),
        model_prefix=str(work / "tok"),
        vocab_size=VOCAB,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        input_sentence_size=200000,
        shuffle_input_sentence=True,
        bos_id=1,
        eos_id=2,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    return out


def build_model(work: Path, size: str, tokenizer: Path) -> Path:
    """A random-weight Llama saved as an HF checkpoint (bf16) with the tokenizer beside."""
    out = work / f"llama-{size}"
    if (out / "model.safetensors").exists():
        return out
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    hidden, layers, inter, heads, kv = SIZES[size]
    cfg = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        max_position_embeddings=4096,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
        torch_dtype="bfloat16",
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
    model.save_pretrained(out)
    (out / "tokenizer.model").write_bytes(tokenizer.read_bytes())
    return out


def convert(model_dir: Path, llama_src: Path) -> Path:
    """HF checkpoint -> GGUF f16 with the converter shipped in llama-cpp-python's sdist."""
    out = model_dir / "model-f16.gguf"
    if out.exists():
        return out
    vendor = llama_src / "vendor" / "llama.cpp"
    env = {**os.environ, "PYTHONPATH": str(vendor / "gguf-py")}
    subprocess.run(
        [
            sys.executable,
            str(vendor / "convert_hf_to_gguf.py"),
            str(model_dir),
            "--outtype",
            "f16",
            "--outfile",
            str(out),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(gguf: Path, threads: int = 2, log: Path | None = None) -> Iterator[str]:
    """llama.cpp's server (llama-cpp-python) on loopback; yields its base URL."""
    port = free_port()
    logf = (log or gguf.with_suffix(".server.log")).open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            str(threads),
            "--n_ctx",
            "2048",
            "--interrupt_requests",
            "False",
        ],
        stdout=logf,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        logf.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], limit_s: float = 120) -> None:
    import httpx

    t0 = time.time()
    while time.time() - t0 < limit_s:
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("llama.cpp server did not answer in time")


def bench(url: str, model_dir: Path, out: Path, args: argparse.Namespace) -> dict[str, object]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = _cli()(
            [
                "bench",
                url,
                "--requests",
                str(args.requests),
                "--concurrency",
                "1",
                "--input-len",
                str(args.input_len),
                "--output-len",
                str(args.output_len),
                "--model",
                str(model_dir / "config.json"),
                "--gpu",
                "cpu",
                "--engine",
                "llamacpp",
                "--weights",
                "fp16",
                "--metrics-interval",
                "0",
                "-o",
                str(out),
                "--json",
                "--no-profile",
            ]
        )
    if rc != 0:
        raise RuntimeError(f"bench failed ({rc})")
    data: dict[str, object] = json.loads(buf.getvalue())
    return data


def _cli() -> Callable[[list[str]], int]:
    """The measure commands with main's error handling (the tests' helper)."""
    sys.path.insert(0, str(ROOT / "tests" / "unit"))
    from measure_helpers import cli

    return cli


def predicted_tps(model_dir: Path, inp: int, outl: int) -> tuple[float, str]:
    from deepfit.measure.compare import predict
    from deepfit.measure.results import Deployment

    dep = Deployment(str(model_dir / "config.json"), "cpu", engine="llamacpp", weights="fp16")
    est = predict(dep, inp, outl, 1)
    return 1 / est.tpot_s, est.source


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/deepfit-e2e"))
    ap.add_argument("--llama-src", type=Path, default=None)
    ap.add_argument("--sizes", default="small,medium")
    ap.add_argument("--requests", type=int, default=6)
    ap.add_argument("--input-len", type=int, default=64)
    ap.add_argument("--output-len", type=int, default=64)
    ap.add_argument("--report", type=Path, default=None, help="write the figures as JSON")
    args = ap.parse_args()
    src = args.llama_src or Path(sorted(glob.glob("/tmp/sdist/llama_cpp_python-*/"))[-1])
    os.environ.setdefault("DEEPFIT_MEASURE_CPU", "1")  # measured bandwidth/FLOP/s, cached
    os.environ["DEEPFIT_CONFIG_DIR"] = str(args.work / "config")  # a private profile
    tok = build_tokenizer(args.work)
    results, rows = [], []
    for size in args.sizes.split(","):
        model_dir = build_model(args.work, size, tok)
        gguf = convert(model_dir, src)
        out = args.work / f"bench-{size}.jsonl"
        out.unlink(missing_ok=True)
        with serve(gguf) as url:
            data = bench(url, model_dir, out, args)
        results.append(out)
        level = data["levels"][0]  # type: ignore[index]
        cmp = {r["quantity"]: r for r in level["comparison"]["rows"]}
        rows.append(
            {
                "size": size,
                "gguf_bytes": gguf.stat().st_size,
                "measured_tps": cmp["decode_tokens_per_s_per_user"]["measured"],
                "predicted_tps_before": cmp["decode_tokens_per_s_per_user"]["predicted"],
                "measured_ttft_s": cmp["ttft_s"]["measured"],
                "predicted_ttft_s_before": cmp["ttft_s"]["predicted"],
            }
        )
    with contextlib.redirect_stdout(sys.stderr):
        _cli()(["calibrate", *map(str, results)])
    for row in rows:
        model_dir = args.work / f"llama-{row['size']}"
        tps, source = predicted_tps(model_dir, args.input_len, args.output_len)
        row["predicted_tps_after"], row["source_after"] = tps, source
    for row in rows:
        m, before = row["measured_tps"], row["predicted_tps_before"]
        print(
            f"{row['size']:>7}: measured {m:6.1f} tok/s, predicted {before:6.1f}"
            f" ({before / m - 1:+.1%}) before, "
            f"{row['predicted_tps_after']:6.1f} ({row['predicted_tps_after'] / m - 1:+.1%}) after"
        )
    if args.report:
        args.report.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
