"""Comments are varied Chinese text whose true labels follow the respondent's own answers."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from cxlake.generator.comments import (
    TRADITIONAL,
    aspects_from_ratings,
    compose,
    overall_sentiment,
    sample_comments,
    to_traditional,
)

EMOJI = re.compile("[\U0001f300-\U0001faff\u2615\u2764]")


@pytest.fixture(scope="module")
def commented(demo, responses):
    by_key = {r["key"]: r for r in responses}
    return [(label, by_key[label["response_key"]]) for label in demo.truth["comments"]]


def test_every_labelled_comment_is_in_the_files_and_every_comment_is_labelled(commented, responses):
    assert len(commented) > 500
    assert all(r["comment"] for _, r in commented)
    labelled = {label["response_key"] for label, _ in commented}
    assert {r["key"] for r in responses if r["comment"] and r["status"] == "IP Address"} == labelled


def test_comment_labels_follow_the_respondents_csat(commented, demo):
    # the coached barista's planted complaints come with a staff CSAT of 1-3 (staff_mentions.py)
    coached = {
        m["response_key"]
        for m in demo.truth["planted"]["frontline"]["mentions"]
        if m["added"] and m["polarity"] == "negative"
    }
    for label, r in commented:
        for touchpoint, polarity in label["aspects"].items():
            worst = 3 if touchpoint == "staff" and label["response_key"] in coached else 2
            score = r["csat"][touchpoint]
            assert (score >= 4) if polarity == "positive" else (score <= worst)
        assert label["sentiment"] == overall_sentiment(label["aspects"])


def test_comments_mix_negation_contrast_traditional_emoji_and_neutral_remarks(commented):
    texts = [r["comment"] for _, r in commented]
    traditional = set(TRADITIONAL.values())
    assert any("不太" in t or "没有想象中" in t or "不算贵" in t for t in texts)
    assert any(
        label["sentiment"] == "mixed" and re.search("但|不过|不過|就是|可惜|只是", r["comment"])
        for label, r in commented
    )
    assert sum(any(c in traditional for c in t) for t in texts) > 0.05 * len(texts)
    assert sum(bool(EMOJI.search(t)) for t in texts) > 0.1 * len(texts)
    assert {label["sentiment"] for label, _ in commented} == {"positive", "negative", "mixed", "neutral"}
    assert len(set(texts)) > 0.6 * len(texts)


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ({"taste": 5, "speed": 1}, {"positive", "negative"}),  # contrast: both feelings survive
        ({"taste": 3, "value": 3}, set()),  # all neutral answers: nothing to praise or blame
        ({"taste": 5, "app": None}, {"positive"}),  # skipped questions are never talked about
    ],
)
def test_aspects_come_only_from_answered_non_neutral_ratings(ratings, expected):
    rnd = random.Random(5)
    seen = set()
    for _ in range(200):
        aspects = aspects_from_ratings(rnd, ratings)
        assert all(ratings[tp] not in (None, 3) for tp in aspects)
        seen |= set(aspects.values())
    assert seen == expected


def test_mixed_comment_joins_opposite_aspects_with_a_contrast_word():
    rnd = random.Random(1)
    texts = [compose(rnd, {"taste": "positive", "speed": "negative"}, "拿铁") for _ in range(100)]
    assert all(re.search("但|不过|不過|就是|可惜|只是", t) for t in texts)


def test_traditional_table_converts_known_characters_only():
    assert all(len(k) == len(v) == 1 and k != v for k, v in TRADITIONAL.items())
    assert to_traditional("价格实惠，下次还来") == "價格實惠，下次還來"


def test_sampled_comments_carry_their_truth_and_repeat_by_seed():
    comments = sample_comments(seed=3, n=400)
    assert [c.text for c in comments] == [c.text for c in sample_comments(seed=3, n=400)]
    assert all(c.sentiment == overall_sentiment(c.aspects) for c in comments)
    assert {c.sentiment for c in comments} == {"positive", "negative", "mixed", "neutral"}
    assert all(c.text for c in comments)
    # the planted CSAT model rates most touchpoints 4-5, so praise outnumbers complaints
    counts = Counter(c.sentiment for c in comments)
    assert counts["positive"] > 3 * counts["negative"] > 0
