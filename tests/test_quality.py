"""Answer quality on the labelled question sets, through the real `rolebot eval` and its bars."""

from __future__ import annotations

import pytest

from conftest import PROJECT_ROOT, RunRolebot

EVAL_DIR = PROJECT_ROOT / "tests" / "eval"
# The bars: in-scope hit@1, typo hit@1, out-of-scope answered with fallback, in-scope sent to fallback.
BARS = ["--min-hit1", "0.95", "--min-category-hit1", "typo=0.9", "--min-fallback-recall", "0.95",
        "--max-false-fallback", "0.03"]


@pytest.mark.evaluation
def test_tuning_sets_meet_the_bars(rolebot: RunRolebot) -> None:
    result = rolebot("eval", "--quiet", str(EVAL_DIR / "dev.yaml"), str(EVAL_DIR / "extra.yaml"), *BARS)
    assert result.code == 0, result.stdout + result.stderr
    assert "in-scope" in result.stdout


@pytest.mark.evaluation
def test_held_out_set_meets_the_bars(rolebot: RunRolebot) -> None:
    result = rolebot("eval", "--quiet", str(EVAL_DIR / "test.yaml"), *TEST_BARS)
    assert result.code == 0, result.stdout + result.stderr


@pytest.mark.evaluation
def test_eval_fails_below_a_bar(rolebot: RunRolebot) -> None:
    result = rolebot("eval", "--quiet", str(EVAL_DIR / "dev.yaml"), "--min-hit1", "1.01")
    assert result.code != 0
    assert "hit@1" in result.stdout + result.stderr
