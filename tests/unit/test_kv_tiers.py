"""KV offload tiers against hand derivations: tokens a tier holds, read-back time per tier,
and where a tier pays, with a prefill time that is linear in the tokens recomputed."""

from __future__ import annotations

import pytest

from deepfit.errors import BadInputError
from deepfit.memory.kv_tiers import KvLayout, TierSpec, load_seconds, tier_answer

GB = 10**9
# tp=4: 32 KiB per token on each GPU, 128 KiB over the replica; PCIe Gen5 63 GB/s one way
KV = KvLayout(32768, 131072, gpus=4, gpus_per_node=4, host_link_bytes_per_s=63 * GB)


def test_cpu_tier_reads_every_gpu_share_in_parallel() -> None:
    cpu = TierSpec("cpu", 100 * GB, 63 * GB, "test")
    # 10,000 tokens x 32,768 bytes on each GPU over its own 63 GB/s link
    assert load_seconds(cpu, KV, 10_000) == pytest.approx(10_000 * 32768 / 63e9)


def test_disk_tier_is_the_slower_of_drives_and_links() -> None:
    slow = TierSpec("disk", 1000 * GB, 6 * GB, "test")
    assert load_seconds(slow, KV, 10_000) == pytest.approx(10_000 * 131072 / 6e9)
    fast = TierSpec("disk", 1000 * GB, 1000 * GB, "test")
    assert load_seconds(fast, KV, 10_000) == pytest.approx(10_000 * 32768 / 63e9)


def test_tokens_held_and_break_even() -> None:
    prompt = 8000
    cpu = TierSpec("cpu", 100 * GB, 63 * GB, "test")

    def prefill(h: float) -> float:  # 5 ms floor + 20 us per recomputed token
        return 0.005 + 20e-6 * (1 - h) * prompt

    ans = tier_answer(cpu, KV, prompt, prefill)
    assert ans.tokens == 100 * GB // 131072
    assert ans.sequences == ans.tokens // prompt
    assert ans.load_s_per_token == pytest.approx(32768 / 63e9)
    assert ans.recompute_s_per_token == pytest.approx(20e-6)
    assert ans.break_even_hit_rate == 0.01  # reading back (0.5 us/token) beats 20 us/token
    h, t = ans.ttft_by_hit[1]
    assert h == 0.5
    assert t == pytest.approx(prefill(0.5) + 0.5 * prompt * 32768 / 63e9)


def test_a_tier_slower_than_recomputing_never_pays() -> None:
    disk = TierSpec("disk", 1000 * GB, 0.5 * GB, "test")  # 262 us per token from the drive

    def prefill(h: float) -> float:
        return 0.005 + 20e-6 * (1 - h) * 8000

    ans = tier_answer(disk, KV, 8000, prefill)
    assert ans.break_even_hit_rate is None
    assert ans.to_dict()["pays"] is False


def test_an_empty_tier_is_bad_input() -> None:
    with pytest.raises(BadInputError):
        tier_answer(TierSpec("cpu", 0, 63 * GB, "t"), KV, 100, lambda h: 1.0)
