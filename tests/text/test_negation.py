"""Negated praise reads as a complaint, negated complaints as praise, and short comments are read
by their words, not by the model's prior: phrases written for this test, none from the corpora."""

from __future__ import annotations

import pytest

from cxlake.text.sentiment import label, load_model, prepare

# Negated positives (weak 不太/不怎么/不够/不是很, strong 不/没, below expectation 没有想象中…).
NEGATED_PRAISE = [
    "不太好",
    "不怎么新鲜",
    "没有想象中好",
    "态度不太友好，价钱偏贵",
    "咖啡不太好喝",
    "店员不够热情",
    "面包不够新鲜",
    "服务不是很周到",
    "桌子不是很干净",
    "没想象中好吃",
    "没有说的那么好",
    "没有以前好喝了",
    "口感不怎么顺滑",
    "环境不太安静",
    "一点也不好喝",
    "一点都不新鲜",
    "不太满意",
    "价格不太实惠",
    "不太划算",
    "小哥不怎么耐心",
    "不太舒服",
    "並不好吃",  # traditional characters
    "拿铁不好喝，不会再来",
]
# Praise, including negated complaints (不难吃, 不用排队) and jieba's compounds (很快, 不久).
PRAISE = [
    "不错",
    "还不错",
    "没有问题",
    "没问题",
    "挺好的",
    "很满意",
    "不贵",
    "一点也不贵",
    "不算贵",
    "不用排队",
    "小程序不卡",
    "等得不久",
    "没有想象中慢",
    "一点都不吵",
    "出餐很快",
    "速度挺快的",
    "服务很周到",
    "无可挑剔",
    "不油腻",
    "店员一点也不敷衍",
    "味道很棒，下次还来",
]
COMPLAINTS = [
    "太贵了",
    "等了快二十分钟",
    "排队排了半天",
    "出餐太慢",
    "等了很久",
    "小程序老是卡顿",
]
# Still read as praise: the corpora's reviews concede a mild price or a wish before praising
# (价格有点贵，但是…; 希望改进 after a compliment), so the pivot part learned 偏/有点/贵/希望 as
# positive and outweighs the lexicon part on a comment that says nothing else. Strict: a fix shows.
KNOWN_GAPS = ["价钱偏贵", "价格有点贵", "希望改进"]


@pytest.mark.parametrize("text", NEGATED_PRAISE)
def test_negated_praise_reads_negative(text):
    probability = load_model().predict_proba([text])[0]
    assert label(probability) == "negative", (text, probability)


@pytest.mark.parametrize("text", PRAISE)
def test_praise_and_negated_complaints_read_positive(text):
    probability = load_model().predict_proba([text])[0]
    assert label(probability) == "positive", (text, probability)


@pytest.mark.parametrize("text", COMPLAINTS)
def test_short_complaints_read_negative(text):
    probability = load_model().predict_proba([text])[0]
    assert label(probability) == "negative", (text, probability)


@pytest.mark.xfail(strict=True, reason="mild price complaints and wishes alone: see KNOWN_GAPS")
@pytest.mark.parametrize("text", KNOWN_GAPS)
def test_mild_complaints_alone_read_negative(text):
    assert label(load_model().predict_proba([text])[0]) == "negative"


@pytest.mark.parametrize(
    ("text", "pivots"),
    [
        ("出餐很快", "快 ⊕"),  # 很快 cut so 快 is read; 很 weights it and leaves the pivots
        ("真的绝了", "绝了 ⊕"),  # review_polarity.txt; 真的 weights it
        ("味道不太好", "⊖"),  # 不太好 cut; the negated word is only its class, its negation consumed
        ("一点都不吵", "⊕"),
        ("等得不久", "⊕"),  # 等 is judged by its complement 不久
        ("等了快二十分钟", "等 ⊖"),  # 快 before a number is "nearly"
        ("没有想象中慢", "⊕"),  # 想象中 whole: HowNet's 中 is not negated
        ("没有送到", "没有"),  # a negation without a polarity word stays as evidence
        ("不错", "不错 ⊕"),  # a word of its own is not cut
    ],
)
def test_pivots_of_short_comments(text, pivots):
    assert prepare([text]).pivots == [pivots]


def test_negated_positive_scores_below_its_positive():
    low, high = load_model().predict_proba(["服务不太周到", "服务很周到"])
    assert low < 0.5 < high
