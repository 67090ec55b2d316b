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
# Mild complaints said alone: an excess word under 偏/有点/略/稍微/太 (lexicons/excess_words.txt),
# 不够 + any word, and wishes that ask for a change. The corpora's reviews concede a mild price or a
# wish before praising (价格有点贵，但是…), which taught the model 贵 and 希望 as praise; the first three
# were strict xfails until concessions were read (sentiment._concede).
MILD_COMPLAINTS = [
    "价钱偏贵",
    "价格有点贵",
    "希望改进",
    "奶茶偏甜",
    "汤有点咸",
    "菜稍微有点油",
    "座位太挤了",
    "分量有点少",
    "咖啡略苦",
    "店里有点吵",
    "杯子有点小",
    "外卖送到时有点凉",
    "房间不够大",
    "空调不够冷",
    "等位的地方不够大",
    "店员不够热情，桌子不够干净",
    "希望服务态度好一点",
    "建议改进一下出餐速度",
    "能不能快点",
    "要是再快一点就更好了",
    "最好能把音乐关小一点",
    "希望下次别再排这么久",
]
# Concessions: the clause after 但是/不过/就是/可惜/只是 is the verdict.
CONCEDED_PRAISE = [
    "拿铁还不错，但是出餐太慢了",
    "环境挺好，不过价格偏贵",
    "味道可以，就是分量有点少",
    "服务很好但是咖啡有点酸",
    "面包好吃，可惜有点贵",
    "位置方便，只是座位太少",
    "整体不错就是配送有点慢",  # 就是 after a polarity word, inside the clause
]
# Must stay praise: negated or mild words that are not complaints, conceded complaints, wishes for
# more of the same.
NOT_COMPLAINTS = [
    "价格不贵",
    "有点好吃",
    "咖啡有点香",
    "店员有点可爱",
    "不会太甜",
    "稍微等了一下但很值",
    "价格略贵但是物有所值",
    "虽然有点贵，但是很好吃",
    "有点远但值得专门跑一趟",
    "稍微有点辣，但很过瘾",
    "房间不大但很干净",
    "希望下次还有这么好的体验",
    "希望越做越好",
    "希望一直保持",
    "不用排队，一点都不吵",
    "再好不过了",
]


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


@pytest.mark.parametrize("text", MILD_COMPLAINTS + CONCEDED_PRAISE)
def test_mild_complaints_wishes_and_conceded_praise_read_negative(text):
    probability = load_model().predict_proba([text])[0]
    assert label(probability) == "negative", (text, probability)


@pytest.mark.parametrize("text", NOT_COMPLAINTS)
def test_mild_praise_conceded_complaints_and_kind_wishes_read_positive(text):
    probability = load_model().predict_proba([text])[0]
    assert label(probability) == "positive", (text, probability)


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
        ("价钱偏贵", "⊖"),  # an excess word under 偏 is only its class: 贵 learned concessions
        ("菜稍微有点油", "⊖"),  # 稍微有点 is one degree
        ("不会太甜", "⊕"),  # a negated excess is praise
        ("房间不够大", "⊖"),  # 不够 + any word
        ("空调不够冷", "⊖"),  # ... a complaint word too
        ("希望改进", "⊖"),  # the wish word is read in the word it judges
        ("希望下次还有这么好的体验", "好 ⊕"),  # more of the same
        ("希望服务好一点", "⊖"),  # a comparative asks for a change
        ("希望一直保持", "保持 ⊕"),
        ("能不能快点", "⊖"),  # 能 不能 is one wish; 快点 cut
        ("要是再快一点就更好了", "⊖ 更"),  # 快 before 一点 is a verdict; 就更好了 is not praise
        ("建议大家来试试", "建议"),  # a wish word that judges nothing stays, as evidence
        ("拿铁不错，但是出餐慢", "慢 ⊖"),  # a complaint verdict: the conceded praise is dropped
        ("好吃但有点贵", "⊖"),  # cut inside the clause at 但
        ("有点贵，但是很好吃", "让 好吃 ⊕"),  # a praise verdict: the concession is one marker
        ("再好不过", "再好不过 ⊕"),  # 不过 at the end is no contrast
        ("好吃就是贵", "贵 ⊖"),  # 就是 after a polarity word is a contrast ...
        ("就是好吃", "好吃 ⊕"),  # ... not opening a text
    ],
)
def test_pivots_of_short_comments(text, pivots):
    assert prepare([text]).pivots == [pivots]


def test_negated_positive_scores_below_its_positive():
    low, high = load_model().predict_proba(["服务不太周到", "服务很周到"])
    assert low < 0.5 < high


def test_training_pivots_keep_every_concession_as_the_corpora_label_it():
    """Learned from: a conceded clause is one marker whatever the verdict (the corpora label about
    half of praise-then-complaint reviews positive); scored: a complaint verdict drops it."""
    prepared = prepare(["拿铁不错，但是出餐慢", "有点贵，但是很好吃", "很好吃"], training=True)
    assert prepared.training_pivots == ["让 慢 ⊖", "让 好吃 ⊕", "好吃 ⊕"]
    assert prepared.pivots == ["慢 ⊖", "让 好吃 ⊕", "好吃 ⊕"]
    assert prepare(["拿铁不错，但是出餐慢"]).training_pivots == []


def test_conceded_clauses_have_their_own_lexicon_columns():
    conceded, plain = prepare(["环境挺好，不过价格偏贵", "价格偏贵"]).lexicon
    assert list(conceded) == [0.0, 1.0, 0.0, 1.0, 0.8, 0.0]  # 挺好 conceded: 好 weighted by 挺 (0.8)
    assert list(plain) == [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def test_fitting_on_scored_pivots_is_refused():
    from cxlake.text.sentiment import family_input

    with pytest.raises(ValueError, match="training=True"):
        family_input(prepare(["很好吃"]), "pivots", training=True)
