"""Exports reserve what the memory ledger counts: vLLM ``--enable-lora --max-loras
--max-lora-rank`` and ``--speculative-config`` with the draft model; SGLang
``--max-loras-per-batch --max-lora-rank`` and ``--speculative-draft-model-path`` (flags from
vLLM's engine arguments and SGLang's server_args.py). The concurrency they write is the one
that fits with the extras counted."""

from __future__ import annotations

import json

import pytest

from deepfit.errors import BadInputError, NotSupportedError
from deepfit.export import ExportRequest, export_config
from deepfit.hardware import load_gpu
from deepfit.memory.formats import load_format
from deepfit.memory.ledger import Extras
from deepfit.models import load_model


def _flag(argv: tuple[str, ...], name: str) -> str:
    return argv[argv.index(name) + 1]


def _export(engine: str, extras: Extras | None, **kw: object) -> tuple[tuple[str, ...], int]:
    req = ExportRequest(engine=engine, context=8192, extras=extras, **kw)  # type: ignore[arg-type]
    out = export_config(load_model("llama-3-8b"), load_gpu("H100"), req)
    return tuple(out.argv), out.to_dict()["settings"]["max_concurrency_at_context"]


def _draft() -> Extras:
    return Extras(draft=load_model("llama-3.2-1b"), draft_format=load_format("bf16"))


def test_vllm_lora_and_draft_flags() -> None:
    plain, n0 = _export("vllm", None)
    argv, n1 = _export("vllm", Extras(max_loras=4, max_lora_rank=16, spec_tokens=3))
    assert "--enable-lora" in argv and "--enable-lora" not in plain
    assert _flag(argv, "--max-loras") == "4" and _flag(argv, "--max-lora-rank") == "16"
    argv, n2 = _export("vllm", _draft(), spec_tokens=3)
    spec = json.loads(_flag(argv, "--speculative-config"))
    assert spec == {"model": "meta-llama/Llama-3.2-1B", "num_speculative_tokens": 3}
    assert n2 < n1 <= n0  # the draft's weights and KV leave fewer sequences than LoRA slots


def test_sglang_lora_and_draft_flags() -> None:
    argv, _ = _export("sglang", Extras(max_loras=2, max_lora_rank=64))
    assert _flag(argv, "--max-loras-per-batch") == "2"
    assert _flag(argv, "--max-lora-rank") == "64"
    # SGLang keeps the draft's pool (as many tokens as the main one) beside its static
    # budget and sets aside only 6 GiB: at its default budget a 1B draft's 16 layers of KV
    # overflow an H100, and the export says to lower the budget
    with pytest.raises(BadInputError, match="gpu-memory-utilization"):
        _export("sglang", _draft(), spec_tokens=2)
    argv, _ = _export("sglang", _draft(), spec_tokens=2, memory_fraction=0.7)
    assert _flag(argv, "--speculative-draft-model-path") == "meta-llama/Llama-3.2-1B"
    assert _flag(argv, "--speculative-num-draft-tokens") == "3"


def test_engines_without_the_flags_refuse() -> None:
    with pytest.raises(NotSupportedError):
        _export("trtllm", Extras(max_loras=2, max_lora_rank=16))


def test_mtp_spec_tokens_count_the_mtp_layer() -> None:
    model, gpu = load_model("deepseek-v3"), load_gpu("H200")
    base = dict(engine="vllm", gpus=8, tp=8, ep=8, context=32768)
    plain = export_config(model, gpu, ExportRequest(**base)).to_dict()["settings"]  # type: ignore[arg-type]
    mtp = export_config(model, gpu, ExportRequest(**base, spec_tokens=1)).to_dict()["settings"]  # type: ignore[arg-type]
    assert mtp["kv_capacity_tokens"] < plain["kv_capacity_tokens"]
