"""The planner against brute force with the scalar estimators, on small spaces."""

from __future__ import annotations

import itertools

import pytest

from deepfit import estimate_memory, estimate_perf, load_gpu, load_model
from deepfit.engines import load_engine
from deepfit.errors import BadInputError
from deepfit.memory.formats import load_format
from deepfit.memory.kv import KvSpec, load_kv_dtype
from deepfit.perf.efficiency import load_efficiency
from deepfit.planner import SearchSpace, Targets, search
from deepfit.planner.cost import cloud_price
from deepfit.planner.evaluate import evaluate_shape, gpu_facts
from deepfit.planner.shapes import stage_shapes
from deepfit.planner.space import SWEEP, LayoutFamily, layouts, replicas, runs_format


@pytest.mark.parametrize(
    "name, gpu, fmt, kv, tp, pp, ep",
    [
        ("qwen2.5-7b", "H100", "bf16", "bf16", 1, 1, 1),
        ("qwen2.5-7b", "L4", "fp8", "fp8", 2, 1, 1),
        ("llama-3.1-70b", "A100-80GB", "awq-int4", "bf16", 4, 2, 1),
        ("mixtral-8x7b", "H100", "fp8", "bf16", 2, 1, 2),
        ("deepseek-v3", "H200", "fp8", "fp8", 8, 1, 8),
        ("deepseek-v3", "H200", "fp8", "fp8", 8, 1, -8),  # -ep: DP attention + EP
        ("deepseek-v2-lite", "RTX4090", "bf16", "bf16", 1, 1, 1),
    ],
)
def test_vectorised_equals_scalar(
    name: str, gpu: str, fmt: str, kv: str, tp: int, pp: int, ep: int
) -> None:
    model, g = load_model(name), load_gpu(gpu)
    profile, eff = load_engine("vllm"), load_efficiency("vllm", gpu=g)
    dpa, ep = ep < 0, abs(ep)
    fam = LayoutFamily(tp, pp, ep, attention_dp=dpa)
    layout = fam.layout()
    spec = KvSpec(load_kv_dtype(kv), mla_latent=True, tp=1 if dpa else tp)
    stages = stage_shapes(model.arch, load_format(fmt), spec, layout, profile, 1000, 300)
    res = evaluate_shape(
        stages,
        model.arch,
        layout,
        gpu_facts([g], load_format(fmt)),
        eff,
        profile,
        0.9,
        1000,
        300,
        list(SWEEP),
    )
    for i, n in enumerate(SWEEP):
        est = estimate_perf(
            model,
            g,
            gpus=tp * pp,
            tp=tp,
            pp=pp,
            ep=ep,
            weights=fmt,
            kv_dtype=kv,
            input_len=1000,
            output_len=300,
            concurrency=n,
            dp_attention=dpa,
        )
        assert res.tpot[0, i] == pytest.approx(est.tpot_s, rel=1e-9)
        assert res.ttft[0, i] == pytest.approx(est.ttft_s, rel=1e-9)
        assert res.bound[0, i] == est.decode_step.bound
    mem = estimate_memory(
        model,
        g,
        gpus=tp * pp,
        tp=tp,
        pp=pp,
        ep=ep,
        weights=fmt,
        kv_dtype=kv,
        context=1300,
        dp_attention=dpa,
    )
    assert res.max_per_replica[0] == mem.max_concurrency


SMALL = dict(
    gpus=["L4", "A100-80GB", "H100"], max_gpus=2, formats=("bf16", "fp8"), kv_dtypes=("bf16",)
)
TARGETS = Targets(input_len=1000, output_len=300, ttft_s=0.5, tpot_s=0.04)


def _brute(name: str, targets: Targets) -> list[tuple[float, str, int, str, int]]:
    """Every candidate of the small space, scored with the scalar estimators."""
    model = load_model(name)
    out = []
    for gname, fmt in itertools.product(SMALL["gpus"], SMALL["formats"]):
        g = load_gpu(gname)
        eff = load_efficiency("vllm", gpu=g)
        if runs_format(g, load_format(fmt)):
            continue
        price = cloud_price(g)
        for fam in layouts(model.arch, 2):
            for dp in replicas(fam, 2):
                gpus = fam.tp * fam.pp * dp
                try:
                    mem = estimate_memory(
                        model,
                        g,
                        gpus=gpus,
                        tp=fam.tp,
                        pp=fam.pp,
                        ep=fam.ep,
                        weights=fmt,
                        kv_dtype="bf16",
                        context=1300,
                    )
                except BadInputError:
                    continue
                cap = (
                    eff.max_num_seqs_large_gpu
                    if mem.gpu_memory_bytes >= 70 * 2**30
                    else (eff.max_num_seqs)
                )
                for n in SWEEP:
                    if n > min(mem.max_concurrency // dp, cap) or not mem.fits:
                        continue
                    est = estimate_perf(
                        model,
                        g,
                        gpus=gpus,
                        tp=fam.tp,
                        pp=fam.pp,
                        ep=fam.ep,
                        weights=fmt,
                        kv_dtype="bf16",
                        input_len=1000,
                        output_len=300,
                        concurrency=n * dp,
                    )
                    if est.ttft_s > (targets.ttft_s or 1e9) or est.tpot_s > (targets.tpot_s or 1e9):
                        continue
                    usd = price.usd_per_gpu_hour * gpus if price else None
                    per_m = usd / (est.output_tokens_per_s * 3600) * 1e6 if usd else 1e18
                    out.append((per_m, gname, gpus, fmt, est.concurrency))
    return sorted(out)


@pytest.mark.parametrize("name", ["qwen2.5-7b", "llama-3.1-8b"])
def test_chosen_plan_is_the_brute_force_optimum(name: str) -> None:
    result = search(load_model(name), TARGETS, SearchSpace(**SMALL))  # type: ignore[arg-type]
    brute = _brute(name, TARGETS)
    assert result.plans and brute
    best = result.plans[0]
    assert best.usd_per_million_tokens == pytest.approx(brute[0][0], rel=1e-9)
    assert (best.gpu, best.gpus, best.weights) == (
        load_gpu(brute[0][1]).name,
        brute[0][2],
        brute[0][3],
    )


def test_every_plan_meets_every_target() -> None:
    targets = Targets(
        input_len=2000, output_len=500, ttft_s=1.0, tpot_s=0.05, rate=2.0, budget_usd_per_hour=40.0
    )
    result = search(load_model("llama-3.1-70b"), targets, SearchSpace(max_gpus=8))
    assert result.plans
    for p in [*result.plans, *result.pareto]:
        assert p.ttft_s <= 1.0 and p.tpot_s <= 0.05
        assert p.output_tokens_per_s >= 2.0 * 500 * (1 - 1e-9)
        assert p.usd_per_hour is not None and p.usd_per_hour <= 40.0
        est = estimate_perf(
            load_model("llama-3.1-70b"),
            load_gpu(p.gpu),
            gpus=p.gpus,
            tp=p.tp,
            pp=p.pp,
            ep=p.ep,
            weights=p.weights,
            kv_dtype=p.kv_dtype,
            input_len=2000,
            output_len=500,
            concurrency=p.concurrency,
        )
        assert est.fits


def test_rejection_reasons_are_true() -> None:
    model = load_model("llama-3.1-70b")
    result = search(
        model,
        Targets(input_len=1000, output_len=300, tpot_s=0.03),
        SearchSpace(gpus=["T4", "L4", "H100", "B200"], max_gpus=2, formats=("bf16", "nvfp4")),
    )
    reasons = {r.candidate: r for r in result.rejected}
    # nvfp4 needs FP4 tensor cores: only Blackwell has them
    assert reasons["H100 SXM x nvfp4"].kind == "unsupported"
    # 70B in bf16 (141 GB) cannot fit two 16 GB T4s whatever the layout
    assert reasons["T4 x bf16"].kind in ("memory", "unsupported")
    for gpus in (1, 2):
        assert not estimate_memory(
            model, load_gpu("L4"), gpus=gpus, weights="bf16", context=1300
        ).fits
    assert reasons["L4 x bf16"].kind == "memory"


def test_speed_of_the_full_default_space() -> None:
    """The contract's example answers, with over 100,000 candidates (timing: benchmarks/)."""
    result = search(
        load_model("deepseek-v3"), Targets(input_len=2000, output_len=500, ttft_s=1.0, tpot_s=0.05)
    )
    assert result.candidates > 100_000
    assert result.plans and all(p.usd_per_hour is not None for p in result.plans)


def test_quality_floor_rejects_cited_losses_and_says_what_is_unknown() -> None:
    """Meta-Llama-3-8B in FP8 loses 0.71% on the OpenLLM v1 average (the quality table's
    cited row): a 0.5% floor rejects it; formats with no cited figure pass with a note."""
    from deepfit.quality import quality_for

    effect = quality_for("meta-llama/Meta-Llama-3-8B", "fp8")
    assert effect is not None and effect.loss_percent > 0.5
    targets = Targets(input_len=1000, output_len=300, max_quality_loss=0.5)
    result = search(
        load_model("llama-3-8b"),
        targets,
        SearchSpace(gpus=["H100"], max_gpus=1, formats=("bf16", "fp8", "awq-int4")),
    )
    kinds = {r.candidate: r.kind for r in result.rejected}
    assert kinds.get("H100 SXM x fp8") == "quality"
    assert all(p.weights != "fp8" for p in result.plans)
    assert any("awq-int4" in n for n in result.notes)


def test_moe_layouts_include_dp_attention_with_ep() -> None:
    fams = list(layouts(load_model("deepseek-v3").arch, 8))
    assert LayoutFamily(8, 1, 8, attention_dp=True) in fams
    assert LayoutFamily(8, 1, 8) in fams
    assert not any(f.attention_dp for f in layouts(load_model("qwen2.5-7b").arch, 8))
    assert 48 in SWEEP and 96 in SWEEP  # between powers of two


def test_own_hardware_economics_come_with_the_plan() -> None:
    """Break-even is part of the library's answer (the web page gets it too): purchase /
    (cloud price x utilization - power at TDP x PUE x US$/kWh) per month of 730 hours."""
    from deepfit.planner import OwnHardware

    gpu = load_gpu("H100")
    own = OwnHardware(25_000.0, years=4.0, usd_per_kwh=0.12, pue=1.3)
    space = SearchSpace(gpus=["H100"], max_gpus=2, own=own)
    result = search(load_model("qwen2.5-7b"), Targets(1024, 256), space)
    econ = result.to_dict()["own_hardware"]
    cloud = cloud_price(gpu)
    assert gpu.tdp_watts == 700 and cloud is not None  # H100 SXM: 700 W (NVIDIA datasheet)
    power = 0.700 * 1.3 * 0.12  # kW x PUE x US$/kWh
    assert econ["cloud_usd_per_gpu_hour"] == cloud.usd_per_gpu_hour
    assert econ["usd_per_gpu_hour"] == pytest.approx(25_000 / (4 * 8760) + power)
    months = 25_000 / (cloud.usd_per_gpu_hour - power) / 730
    assert econ["break_even_months"] == pytest.approx(months)
