"""The held-in / held-out split of the published runs, by group, never by row.

A group is every row of one (source table, model, GPU, engine): rows of one group share a
deployment, a harness and a publisher, so a row held out while its twin is held in would
measure interpolation, not prediction. Within each engine the groups that have at least one
covered row are ordered by the SHA-256 of their key and alternate held-in, held-out, ... so
that every engine with two or more groups has both halves. The rule reads nothing but the
group keys: it cannot be tuned to the errors.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from .groundtruth import PublishedRun


def group_hash(key: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(key).encode()).hexdigest()


def held_in_groups(runs: Iterable[PublishedRun]) -> set[tuple[str, str, str, str]]:
    """The groups whose rows calibration may use."""
    by_engine: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    for run in runs:
        if run.covered:
            by_engine[run.engine].add(run.group)
    chosen: set[tuple[str, str, str, str]] = set()
    for groups in by_engine.values():
        ordered = sorted(groups, key=group_hash)
        chosen.update(ordered[0::2])
    return chosen


def assign_split(runs: list[PublishedRun]) -> list[PublishedRun]:
    """``runs`` with ``held_in`` set for whole groups (see the module docstring)."""
    chosen = held_in_groups(runs)
    return [replace(r, held_in=r.group in chosen) for r in runs]
