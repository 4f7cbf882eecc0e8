"""Close the loop: measure a real deployment, compare with deepfit's prediction, calibrate.

- :func:`run_bench` drives an OpenAI-compatible server (:class:`LoadSpec`) and writes
  each request to a JSONL file as it finishes (:mod:`.results`);
- :func:`compare` puts a level's measurements next to ``estimate_perf``;
- :func:`fit_points` fits efficiency factors, stored by :func:`save_entry` in the user
  profile and read back by :func:`profile_overrides`;
- :mod:`.monitor` samples NVML and /proc.

This package is an adapter: the core (memory, perf, planner) never imports it. httpx is
imported by the bench modules only, so ``profile_overrides`` works without it.
"""

from __future__ import annotations

from .profile import load_profile, profile_key, profile_overrides, profile_path, save_entry
from .results import BenchRun, Deployment, RequestRecord, RunHeader, read_runs
from .stats import LevelStats, Slo, level_stats
from .workload import Lengths, Prompt, dataset_prompts, synthetic_prompts

__all__ = [
    "BenchRun",
    "Deployment",
    "Lengths",
    "LevelStats",
    "Prompt",
    "RequestRecord",
    "RunHeader",
    "Slo",
    "dataset_prompts",
    "level_stats",
    "load_profile",
    "profile_key",
    "profile_overrides",
    "profile_path",
    "read_runs",
    "save_entry",
    "synthetic_prompts",
]
