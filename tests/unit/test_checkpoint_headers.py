"""Exact weight bytes from checkpoint headers: synthetic safetensors and GGUF files written
here, read from disk and through a loopback HTTP server serving byte ranges."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from deepfit import load_gpu, model_from_config
from deepfit.errors import BadInputError, OfflineError
from deepfit.memory import estimate_memory
from deepfit.memory.formats import load_format, weight_bytes
from deepfit.models.checkpoint import hub_checkpoint, read_checkpoint

from .checkpoint_fixtures import range_server, write_gguf, write_safetensors

MIXED = {
    "model.embed_tokens.weight": ("BF16", (10, 8)),
    "model.layers.0.self_attn.q_proj.weight": ("F8_E4M3", (8, 8)),
    "model.layers.0.self_attn.q_proj.weight_scale_inv": ("F32", (1, 1)),
    "model.layers.0.mlp.experts.w1": ("U8", (4, 8, 2)),
    "model.layers.1.input_layernorm.weight": ("BF16", (8,)),
    "model.layers.2.eh_proj.weight": ("BF16", (8, 16)),  # past 2 layers: MTP
    "mtp.0.norm.weight": ("F32", (8,)),
}


def test_safetensors_mixed_dtypes_exactly(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    payload = write_safetensors(path, MIXED)
    got = read_checkpoint(str(path), num_layers=2)
    assert got.total_bytes == payload
    assert got.bytes_by_dtype == {"BF16": 160 + 16 + 256, "F32": 4 + 32, "F8_E4M3": 64, "U8": 64}
    assert got.mtp_bytes == 256 + 32
    assert got.main_bytes == payload - 288
    assert got.tensors == len(MIXED)


def test_gguf_types_sized_by_block(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    write_gguf(
        path,
        [
            ("token_embd.weight", (256, 10), 14),  # Q6_K: 210 bytes per 256
            ("blk.0.attn_q.weight", (512, 4), 12),  # Q4_K: 144 per 256
            ("blk.0.ffn_down.weight", (256, 2), 16),  # IQ2_XXS: 66 per 256
            ("blk.0.attn_norm.weight", (256,), 0),  # F32
            ("blk.1.nextn.eh_proj.weight", (32, 4), 8),  # Q8_0: 34 per 32, MTP
        ],
    )
    got = read_checkpoint(str(path))
    assert got.bytes_by_dtype == {
        "F32": 1024,
        "IQ2_XXS": 2 * 66,
        "Q4_K": 8 * 144,
        "Q6_K": 10 * 210,
        "Q8_0": 4 * 34,
    }
    assert got.mtp_bytes == 4 * 34
    assert got.main_bytes == 1024 + 132 + 1152 + 2100


def test_bad_headers_are_one_clear_error(tmp_path: Path) -> None:
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(struct.pack("<Q", 20) + b'{"a": {"dtype": 1}}')
    gguf = tmp_path / "bad.gguf"
    gguf.write_bytes(b"GGUF" + struct.pack("<IQQ", 7, 0, 0))
    for path in (short, huge, broken, gguf):
        with pytest.raises(BadInputError):
            read_checkpoint(str(path))


def _repo(tmp_path: Path) -> tuple[Path, int]:
    repo = tmp_path / "org" / "tiny" / "resolve" / "main"
    repo.mkdir(parents=True)
    a = write_safetensors(repo / "model-00001-of-00002.safetensors", dict(list(MIXED.items())[:3]))
    b = write_safetensors(repo / "model-00002-of-00002.safetensors", dict(list(MIXED.items())[3:]))
    files = ("model-00001-of-00002.safetensors",) * 3 + ("model-00002-of-00002.safetensors",) * 4
    index = {"metadata": {"total_size": a + b}, "weight_map": dict(zip(MIXED, files, strict=True))}
    (repo / "model.safetensors.index.json").write_text(json.dumps(index))
    return tmp_path, a + b


def test_hub_reads_index_and_shard_headers_by_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, payload = _repo(tmp_path)
    with range_server(root) as (url, seen):
        monkeypatch.setenv("HF_ENDPOINT", url)
        got = hub_checkpoint("org/tiny", num_layers=2)
    assert got.total_bytes == payload and got.files == 2
    assert got.mtp_bytes == 288
    # every shard request is a range inside its header: never a weight byte
    for shard in ("model-00001-of-00002", "model-00002-of-00002"):
        data = (root / "org/tiny/resolve/main" / f"{shard}.safetensors").read_bytes()
        header_end = 8 + struct.unpack("<Q", data[:8])[0]
        ranges = [r.split("bytes=")[1] for r in seen if shard in r]
        assert ranges and all(int(r.split("-")[1]) < header_end for r in ranges)


def test_hub_headers_are_cached_and_offline_without_cache_is_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _payload = _repo(tmp_path)
    with range_server(root) as (url, _):
        monkeypatch.setenv("HF_ENDPOINT", url)
        first = hub_checkpoint("org/tiny", num_layers=2)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_checkpoint("org/tiny", num_layers=2) == first  # served from the cache
    with pytest.raises(OfflineError):
        hub_checkpoint("org/other", num_layers=2)


def test_a_server_that_ignores_range_is_still_read_only_to_the_header(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    payload = write_safetensors(path, {"w": ("BF16", (1024, 1024))})  # 2 MiB of weights
    with range_server(tmp_path, honour_range=False) as (url, _):
        got = read_checkpoint(f"{url}/big.safetensors")
    assert got.total_bytes == payload


TINY = {
    "model_type": "llama",
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 16,
    "vocab_size": 10,
    "torch_dtype": "bfloat16",
}


def test_memory_uses_the_checkpoints_exact_bytes(tmp_path: Path) -> None:
    model = model_from_config(TINY)
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"model.embed_tokens.weight": ("F32", (1000, 8))})
    ckpt = read_checkpoint(str(path), num_layers=2)
    est = estimate_memory(model, load_gpu("H100"), context=64, checkpoint=ckpt)
    assert est.stages[0].weights == ckpt.main_bytes
    # another format than the checkpoint's own keeps the format rule
    fp8 = estimate_memory(model, load_gpu("H100"), context=64, weights="fp8", checkpoint=ckpt)
    assert fp8.stages[0].weights == weight_bytes(model.arch, load_format("fp8")).total


def test_cli_memory_with_a_checkpoint_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(TINY))
    shard = tmp_path / "model.safetensors"
    payload = write_safetensors(shard, {"model.embed_tokens.weight": ("BF16", (64, 8))})
    args = ["memory", str(cfg), "--gpu", "H100", "--context", "64", "--checkpoint", str(shard)]
    run = subprocess.run(
        [sys.executable, "-m", "deepfit", *args, "--json"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["checkpoint"]["total_bytes"] == payload
    assert out["per_gpu"]["weights_bytes"] == payload
    bad = subprocess.run(
        [sys.executable, "-m", "deepfit", *args[:-1], str(cfg), "--json"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_ggml_type_table_equals_the_gguf_package() -> None:
    """Block sizes and bytes per block of every ggml type deepfit reads, against the
    reference table of llama.cpp's own Python package (validate extra)."""
    constants = pytest.importorskip("gguf.constants")
    from deepfit.models.checkpoint.gguf import GGML_TYPES

    for type_id, (name, block, block_bytes) in GGML_TYPES.items():
        kind = constants.GGMLQuantizationType(type_id)
        assert kind.name == name
        assert constants.GGML_QUANT_SIZES[kind] == (block, block_bytes), name


def test_a_file_written_by_the_gguf_package_is_sized_exactly(tmp_path: Path) -> None:
    """A GGUF file written by llama.cpp's own writer (validate extra), K-quant, IQ and float
    tensors with a tokenizer in the metadata: header bytes equal the writer's payloads."""
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    kinds = gguf.GGMLQuantizationType
    path = tmp_path / "written.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_token_list(["<s>", "</s>", "hello"])
    payloads = {}
    for name, kind, rows, cols in (
        ("blk.0.attn_q.weight", kinds.Q4_K, 4, 512),
        ("blk.0.ffn_down.weight", kinds.IQ2_XXS, 2, 256),
        ("blk.0.attn_v.weight", kinds.Q6_K, 3, 256),
        ("blk.0.nextn.eh_proj.weight", kinds.Q8_0, 2, 64),
    ):
        block, block_bytes = gguf.GGML_QUANT_SIZES[kind]
        raw = np.zeros((rows, cols // block * block_bytes), dtype=np.uint8)
        writer.add_tensor(name, raw, raw_dtype=kind)  # element shape from the byte shape
        payloads[name] = raw.nbytes
    norm = np.zeros(256, dtype=np.float32)
    writer.add_tensor("blk.0.attn_norm.weight", norm)
    payloads["blk.0.attn_norm.weight"] = norm.nbytes
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    got = read_checkpoint(str(path))
    assert got.total_bytes == sum(payloads.values())
    assert got.mtp_bytes == payloads["blk.0.nextn.eh_proj.weight"]
    assert got.tensors == len(payloads)
