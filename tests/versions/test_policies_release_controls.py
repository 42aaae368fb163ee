"""Pure rules of staged rollouts and yanks (issue #16): no database."""

from __future__ import annotations

from itertools import pairwise

import pytest

from core.errors import ApplicationError
from versions import policies


def test_bucket_is_deterministic_and_in_range():
    buckets = [policies.stage_bucket(i, 7) for i in range(1, 5000)]
    assert buckets == [policies.stage_bucket(i, 7) for i in range(1, 5000)]
    assert all(0 <= b < policies.STAGE_BUCKETS for b in buckets)


def test_buckets_spread_evenly_so_a_stage_holds_about_its_share():
    ids = range(1, 20_001)
    for percent in (1, 5, 20, 50):
        limit = policies.stage_bucket_limit(percent)
        share = sum(policies.stage_reached(i, 42, limit) for i in ids) / len(ids)
        assert abs(share - percent / 100) < 0.01, (percent, share)


def test_a_stage_never_shrinks():
    stages = [1, 5, 20, 50, 100]
    limits = [policies.stage_bucket_limit(p) for p in stages]
    members = [{i for i in range(1, 3000) if policies.stage_reached(i, 11, limit)} for limit in limits]
    for smaller, larger in pairwise(members):
        assert smaller < larger  # strictly grows, never loses anyone
    assert members[-1] == set(range(1, 3000))


def test_another_version_picks_other_early_adopters():
    limit = policies.stage_bucket_limit(5)
    first = {i for i in range(1, 4000) if policies.stage_reached(i, 1, limit)}
    second = {i for i in range(1, 4000) if policies.stage_reached(i, 2, limit)}
    assert first and second and first != second


def test_stage_limit_comes_from_the_rollout_then_the_plan_then_everybody():
    assert policies.stage_limit(rollout_limit=500, plan_stages=[1, 100]) == 500
    assert policies.stage_limit(rollout_limit=None, plan_stages=[1, 100]) == 100
    assert policies.stage_limit(rollout_limit=None, plan_stages=None) == policies.STAGE_BUCKETS
    assert policies.stage_reached(123, 4, policies.STAGE_BUCKETS)
    assert not any(policies.stage_reached(i, 4, 0) for i in range(1, 100))


def test_stage_plan_check_accepts_a_growing_plan_ending_at_100():
    assert policies.stage_plan_check(["1", " 5", "20%", "50", "100"]) == [1, 5, 20, 50, 100]
    assert policies.stage_plan_check([10, 100], advance_every_hours=24, halt_failure_percent=5) == [10, 100]


@pytest.mark.parametrize(
    ("stages", "kwargs", "field", "words"),
    [
        (["1", "x"], {}, "stages", "whole percentages"),
        (["100"], {}, "stages", "between 2"),
        (["0", "100"], {}, "stages", "between 1 and 100"),
        (["20", "5", "100"], {}, "stages", "larger than the one before"),
        (["5", "5", "100"], {}, "stages", "larger than the one before"),
        (["5", "50"], {}, "stages", "last stage must be 100"),
        (["5", "100"], {"advance_every_hours": 0}, "advance_every_hours", "1 to"),
        (["5", "100"], {"halt_failure_percent": 101}, "halt_failure_percent", "between 1 and 100"),
    ],
)
def test_stage_plan_check_names_the_field_and_the_rule(stages, kwargs, field, words):
    with pytest.raises(ApplicationError) as exc:
        policies.stage_plan_check(stages, **kwargs)
    assert exc.value.field == field and words in exc.value.message


def test_auto_halt_fires_at_the_threshold_not_below():
    assert not policies.stage_failure_halts(failed=1, attempted=11, threshold_percent=10)  # 9.1 %
    assert policies.stage_failure_halts(failed=1, attempted=10, threshold_percent=10)  # 10 %: at it
    assert policies.stage_failure_halts(failed=3, attempted=10, threshold_percent=10)
    assert not policies.stage_failure_halts(failed=5, attempted=5, threshold_percent=None)
    assert not policies.stage_failure_halts(failed=0, attempted=0, threshold_percent=1)


def test_yank_needs_a_reason_of_bounded_length():
    assert policies.yank_reason_check("  data loss on upgrade ") == "data loss on upgrade"
    for bad in ("", "   ", None, "x" * (policies.YANK_REASON_MAX + 1)):
        with pytest.raises(ApplicationError) as exc:
            policies.yank_reason_check(bad)
        assert exc.value.field == "reason"


def test_move_off_offer_says_why_and_which_way():
    offer = policies.move_off_offer(
        installed_number="1.2.0", yank_reason="corrupts boards.", target_number="1.1.0", target_is_lower=True
    )
    assert offer["code"] == policies.VERSION_YANKED and offer["yank_reason"] == "corrupts boards."
    assert "1.2.0 was withdrawn" in offer["message"] and "back to 1.1.0" in offer["message"]
    assert policies.yank_refusal(name="App", number="1.2.0", yanked=True)
    assert policies.yank_refusal(name="App", number="1.2.0", yanked=False) == ""
