# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
"""The words of the charts and the HTML report in English and Simplified Chinese (zh-CN).
Terms follow what Chinese ML engineers write: 显存 (GPU memory), 推理 (inference), 量化
(quantization), 张量并行 (tensor parallelism), 首字延迟 TTFT, 每 token 时延 TPOT. The page's own
words live in static/i18n.js."""

from __future__ import annotations

from ..errors import BadInputError

LANGS = ("en", "zh-CN")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "weights": "weights",
        "kv_cache": "KV cache",
        "activations": "activations",
        "overhead": "overhead",
        "free": "free",
        "gpu_memory": "GPU memory",
        "memory_per_gpu": "memory per GPU",
        "per_user": "output tokens/s per user",
        "per_gpu": "output tokens/s per GPU",
        "pareto": "Pareto front",
        "plan1": "plan #1",
        "at_once": "at once",
        "report": "deepfit report",
        "workload": "Workload",
        "tokens_in_out": "{i} input / {o} output tokens",
        "ttft_target": "TTFT target {v}",
        "tpot_target": "TPOT target {v}",
        "rate": "rate {v} requests/s",
        "budget": "budget {v} $/h",
        "no_target": "no latency target",
        "objective": "objective {v}",
        "candidates": "{n} candidates searched",
        "best_plans": "Best plans",
        "why1": "Why #1:",
        "nothing": "Nothing meets every target.",
        "memory_h": "Memory per GPU (plan #1)",
        "speed_h": "Speed (plan #1)",
        "total": "total",
        "value": "value",
        "ttft": "time to first token (TTFT)",
        "tpot": "time per output token (TPOT)",
        "tok_s": "output tokens/s",
        "bound": "bound by",
        "provenance": "provenance",
        "front_h": "Throughput per GPU vs speed per user (Pareto front)",
        "launch_h": "Launch",
        "rejected_h": "Rejected candidates, by reason",
        "n_candidates": "{n} candidates",
        "kind_memory": "Does not fit in memory",
        "kind_slo": "Misses a latency target",
        "kind_budget": "Over the budget",
        "kind_rate": "Cannot serve the rate",
        "kind_unsupported": "The GPU cannot run the format",
        "kind_quality": "Quality loss too large",
        "kind_other": "Other reasons",
        "footer": "deepfit {v}, {t}. Prices are the catalogue's dated offers; speeds are "
        "calibrated estimates (see deepfit validate).",
    },
    "zh-CN": {
        "weights": "权重",
        "kv_cache": "KV 缓存",
        "activations": "激活",
        "overhead": "额外开销",
        "free": "空闲",
        "gpu_memory": "显存容量",
        "memory_per_gpu": "每卡显存",
        "per_user": "每用户输出 tokens/s",
        "per_gpu": "每卡输出 tokens/s",
        "pareto": "帕累托前沿",
        "plan1": "方案 #1",
        "at_once": "并发",
        "report": "deepfit 报告",
        "workload": "负载",
        "tokens_in_out": "输入 {i} / 输出 {o} tokens",
        "ttft_target": "首字延迟 TTFT 目标 {v}",
        "tpot_target": "每 token 时延 TPOT 目标 {v}",
        "rate": "请求速率 {v} 次/秒",
        "budget": "预算 {v} 美元/小时",
        "no_target": "无延迟目标",
        "objective": "优化目标 {v}",
        "obj_cost": "成本最低",
        "obj_throughput": "吞吐最高",
        "obj_latency": "延迟最低",
        "candidates": "共搜索 {n} 个候选",
        "best_plans": "最佳部署方案",
        "why1": "为何选 #1：",
        "nothing": "没有方案满足全部目标。",
        "memory_h": "每卡显存（方案 #1）",
        "speed_h": "推理速度（方案 #1）",
        "total": "合计",
        "value": "数值",
        "ttft": "首字延迟 TTFT",
        "tpot": "每 token 时延 TPOT",
        "tok_s": "输出 tokens/s",
        "bound": "瓶颈",
        "provenance": "数据来源",
        "front_h": "每卡吞吐与每用户速度（帕累托前沿）",
        "launch_h": "启动命令",
        "rejected_h": "被排除的候选（按原因分组）",
        "n_candidates": "{n} 个候选",
        "kind_memory": "显存放不下",
        "kind_slo": "未达延迟目标",
        "kind_budget": "超出预算",
        "kind_rate": "达不到请求速率",
        "kind_unsupported": "该 GPU 不支持此量化格式",
        "kind_quality": "量化精度损失过大",
        "kind_other": "其他原因",
        "footer": "deepfit {v}，{t}。价格为目录中注明日期的报价；速度为校准后的估计值"
        "（见 deepfit validate）。",
    },
}


#: The plan table's column titles (planner.result.PLAN_COLUMNS) in Chinese.
PLAN_COLUMNS_ZH = (
    "#",
    "GPU",
    "权重/KV",
    "TP/PP/EP/DP",
    "并发",
    "TTFT 毫秒",
    "TPOT 毫秒",
    "输出 tokens/s",
    "美元/小时",
    "美元/百万 tokens",
)


def check_lang(lang: str) -> str:
    """``lang`` if deepfit speaks it (``en`` or ``zh-CN``; ``zh`` means ``zh-CN``)."""
    key = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN"}.get(lang.lower(), lang)
    if key not in _WORDS:
        raise BadInputError(f"language '{lang[:20]}' is not available", "use en or zh-CN")
    return key


def words(lang: str) -> dict[str, str]:
    """The word table of ``lang`` (see :data:`LANGS`)."""
    return _WORDS[check_lang(lang)]
