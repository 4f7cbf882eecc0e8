"""What a first-time user meets: impossible arguments say so, nothing is silently
changed, plans that quantize say what it costs, the text output has what --json has."""

from __future__ import annotations

import json
import re

from .test_cli import run


def test_fewer_gpus_than_the_layout_is_bad_input() -> None:
    out = run("memory", "llama-3.1-8b", "--gpu", "H100", "--gpus", "2", "--tp", "4")
    assert out.returncode == 2
    assert "--gpus 2 cannot hold tp=4" in out.stderr and "Traceback" not in out.stderr


def test_tp_alone_sets_the_gpu_count() -> None:
    out = run("memory", "llama-3.1-8b", "--gpu", "H100", "--tp", "4", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["gpus"] == 4


def test_train_search_says_what_it_searched_and_prints_the_launch_files() -> None:
    args = ("train", "deepseek-7b", "--gpu", "A100-80GB", "--gpus", "8", "--method", "lora")
    out = run(*args, "--search", "--launch", env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    data = json.loads(run(*args, "--search", "--launch", "--json").stdout)
    fewest = data["search"]["min_gpus"]
    assert f"fewest GPUs up to 8 that fit: {fewest} x" in out.stdout
    assert data["search"]["max_gpus"] == 8
    assert data["launch"]["torchrun"].split()[0] in out.stdout  # the torchrun line
    assert '"train_micro_batch_size_per_gpu"' in out.stdout  # the DeepSpeed config


def test_a_quantized_plan_says_what_it_costs_and_lossless_keeps_full_precision() -> None:
    out = run("plan", "deepseek-v3", "--json")
    assert out.returncode == 0, out.stderr
    plans = json.loads(out.stdout)["plans"]
    unquantized = {"bf16", "fp8"}  # DeepSeek-V3's checkpoint is FP8
    for p in plans:
        if p["weights"] in unquantized:
            assert p["quality"] is None
        else:
            assert p["quality"] and "quality:" in p["why"], p
    out = run("plan", "deepseek-v3", "--lossless", "--json")
    assert out.returncode == 0, out.stderr
    assert {p["weights"] for p in json.loads(out.stdout)["plans"]} <= unquantized


def test_an_ambiguous_gpu_name_says_which_card_it_means() -> None:
    out = run("memory", "llama-3.1-8b", "--gpu", "a100", "--json")
    assert out.returncode == 0
    assert "A100 80GB SXM4" in out.stderr and "A100-40GB" in out.stderr
    json.loads(out.stdout)  # stdout stays one JSON object


def test_debug_keeps_the_exit_code_of_bad_input() -> None:
    out = run("memory", "no-such-model", "--gpu", "H100", env={"DEEPFIT_DEBUG": "1"})
    assert out.returncode == 2
    assert "Traceback" in out.stderr


def test_dp_attention_is_named_in_the_headline() -> None:
    args = ("memory", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "--engine", "sglang")
    out = run(*args, "--dp-attention", env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "attention data-parallel over the 8 tensor-parallel ranks" in out.stdout


def test_rows_that_lack_a_figure_say_which_commands_they_answer() -> None:
    gpus = json.loads(run("gpus", "--json").stdout)["gpus"]
    by_name = {g["name"]: g for g in gpus}
    assert by_name["RTX 6000 Ada"]["unusable_for"]["perf"] == "no sourced bf16 tensor rate"
    out = run(
        "perf", "llama-3.1-8b", "--gpu", "RTX6000-Ada", "--input-len", "8", "--output-len", "8"
    )
    assert out.returncode == 2 and "no peak bf16 throughput for RTX 6000 Ada" in out.stderr
    out = run("memory", "llama-3.1-8b", "--gpu", "M3-Max")
    assert out.returncode == 2 and "--engine llamacpp" in out.stderr
    out = run("memory", "llama-3.1-8b", "--gpu", "M3-Max", "--engine", "llamacpp", "--json")
    assert out.returncode == 0, out.stderr


def test_a_missing_config_path_is_reported_as_a_missing_file() -> None:
    out = run("info", "path/to/config.json")
    assert out.returncode == 2
    assert "no config file at 'path/to/config.json'" in out.stderr
    assert "unknown model" not in out.stderr


def test_one_kv_pool_size_per_deployment() -> None:
    """The pool holds whole KV blocks: the capacity shown equals what the longest-sequence
    note says the cache would hold (vLLM reports blocks x block size)."""
    args = ("memory", "deepseek-v3", "--gpu", "H200", "--gpus", "8", "--weights", "fp8")
    data = json.loads(run(*args, "--context", "32768", "--json").stdout)
    assert data["kv_capacity_tokens"] % 16 == 0
    note = next(n for n in data["notes"] if "would hold" in n)
    assert f"would hold {data['kv_capacity_tokens']:,} tokens" in note


def test_matrix_marks_upcast_fp4_cites_whole_sources_and_skips_moe_only_formats() -> None:
    args = ("perf", "llama-3.1-8b", "--gpu", "H100", "--input-len", "512", "--output-len", "128")
    rows = {r["weights"]: r for r in json.loads(run(*args, "--matrix", "--json").stdout)["matrix"]}
    assert rows["nvfp4"]["native"] is False  # H100 has no FP4 tensor cores
    assert "routed experts" in rows["mxfp4"]["error"]  # a dense model has no experts
    out = run(*args, "--matrix", env={"COLUMNS": "80"})
    for r in rows.values():
        if r.get("quality_source"):
            assert r["quality_source"] in out.stdout  # printed whole, not cut


def test_weights_beyond_one_gpu_give_no_negative_row_and_say_what_would_fit() -> None:
    """The report's case: DeepSeek-V3 on one H200 printed `KV cache -503.56 GiB`."""
    args = ("memory", "deepseek-v3", "--gpu", "H200")
    data = json.loads(run(*args, "--json").stdout)
    row = data["per_gpu"]
    assert row["kv_cache_bytes"] == 0 and not data["fits"]
    assert sum(v for k, v in row.items() if k != "total_bytes") == row["total_bytes"]
    # short by what the weights overrun plus the one sequence's KV: more than the GPU lacks
    assert data["shortfall_bytes"] > row["total_bytes"] - data["gpu_memory_bytes"]
    assert data["would_fit"][0]["gpus"] == 8
    out = run(*args, env={"COLUMNS": "200"})
    assert "would fit: 8 x H200 SXM" in out.stdout
    assert not re.search(r"(?<![\w.-])-\d", out.stdout)  # no negative figure
