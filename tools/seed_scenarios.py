"""The seed article's three scenario recipes, planned by deepfit (docs/planner.md).

Run: python tools/seed_scenarios.py
For each recipe: the seed's hardware evaluated on the scenario's workload (fits? speed?
price?) and deepfit's best plan over the whole catalogue.
"""

from __future__ import annotations

from deepfit import estimate_memory, estimate_perf, load_gpu, load_model, model_from_config
from deepfit.models.loader import Model
from deepfit.planner import SearchSpace, Targets, load_scenario, search
from deepfit.planner.cost import cloud_price

# DeepSeek-Coder-33B's published dimensions (arXiv:2401.14196): not bundled as a config.
CODER_33B = {
    "model_type": "llama",
    "hidden_size": 7168,
    "num_hidden_layers": 62,
    "num_attention_heads": 56,
    "num_key_value_heads": 8,
    "intermediate_size": 19200,
    "vocab_size": 32256,
    "max_position_embeddings": 16384,
    "tie_word_embeddings": False,
}

RECIPES = [
    ("customer-service", "deepseek-7b", "bf16", [("A10G", 2), ("L40", 1)]),
    ("code-generation", "coder-33b", "fp16", [("A6000", 4), ("H100", 8)]),
    ("batch-research", "deepseek-236b", "fp32", [("A100-80GB", 16)]),
]


def _model(name: str) -> Model:
    if name == "coder-33b":
        return model_from_config(CODER_33B, "deepseek-coder-33b (paper dims)")
    return load_model(name)


def main() -> None:
    for scenario_name, model_name, fmt, seed_hw in RECIPES:
        sc = load_scenario(scenario_name)
        model = _model(model_name)
        print(
            f"## {scenario_name}: {model.id}, {sc.input_len} in / {sc.output_len} out, "
            f"TTFT <= {sc.ttft_s}, TPOT <= {sc.tpot_s}, rate {sc.rate}"
        )
        for gpu_name, count in seed_hw:
            gpu = load_gpu(gpu_name)
            mem = estimate_memory(
                model, gpu, gpus=count, weights=fmt, context=sc.input_len + sc.output_len
            )
            price = cloud_price(gpu)
            line = f"- seed: {count} x {gpu.name} {fmt}: fits={mem.fits}"
            if mem.fits:
                perf = estimate_perf(
                    model,
                    gpu,
                    gpus=count,
                    weights=fmt,
                    input_len=sc.input_len,
                    output_len=sc.output_len,
                    concurrency="max",
                )
                line += (
                    f", {perf.concurrency} at once, TTFT {perf.ttft_s * 1000:.0f} ms, "
                    f"TPOT {perf.tpot_s * 1000:.1f} ms, {perf.output_tokens_per_s:,.0f} tok/s"
                )
            if price:
                line += f", ${price.usd_per_gpu_hour * count:.2f}/h"
            print(line + ("; " + "; ".join(mem.reasons) if mem.reasons else ""))
        result = search(
            model,
            Targets(sc.input_len, sc.output_len, sc.ttft_s, sc.tpot_s, sc.rate, None, sc.objective),
            SearchSpace(max_gpus=64),
        )
        for p in result.plans[:3]:
            print(f"- deepfit: {p.why}")
        print()


if __name__ == "__main__":
    main()
