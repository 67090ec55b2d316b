"""Aspect tagging: touchpoints named by the journey map's lexicon, each with the feeling of its clause."""

from __future__ import annotations

import numpy as np
import pytest

from cxlake.journey import Touchpoint, load_touchpoints
from cxlake.text.aspects import (
    clause_polarity,
    format_aspects,
    parse_aspects,
    tag_aspects,
    tag_many,
    tag_normalised,
)
from cxlake.text.normalise import normalise


def _model_says(probability: float):
    """A stand-in for the sentiment model's clause probability, so each case pins one rule."""
    return lambda clauses: np.full(len(clauses), probability)


UNSURE = _model_says(0.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the cases
        ("不好吃", "taste:negative"),
        ("好吃", "taste:positive"),
        ("没有想象中慢", "speed:positive"),  # the expectation is negated, not the speed
        ("不慢", "speed:positive"),
        ("慢", "speed:negative"),
        ("太贵了", "value:negative"),
        ("好吃但是太慢了", "speed:negative;taste:positive"),  # the review's overall feeling is mixed
        ("服务态度很好", "staff:positive"),
        ("环境一般", "environment:neutral"),  # 一般 is a word of its own: so-so, neither way
        # negation variants
        ("不太好吃", "taste:negative"),  # a weak negation is still a negation
        ("味道不是很好", "taste:negative"),
        ("没有不好吃的", "taste:positive"),  # double negation
        ("不得不说咖啡很好喝", "taste:positive"),  # 不得不 negates nothing
        ("特别好吃", "taste:positive"),  # the 别 in 特别 is no 别
        ("好吃不贵", "value:positive;taste:positive"),  # each word its own negation
        ("又慢又不好吃", "speed:negative;taste:negative"),
        ("好难吃", "taste:negative"),  # 好 as a degree adverb is no praise
        # words hiding inside other words
        ("快递员很给力", "delivery:positive"),  # 快递 is no 快
        ("出差住的，房间干净", "environment:positive"),  # 出差 is no 差
        ("今天天气不错", ""),  # no touchpoint named
    ],
)
def test_each_clause_gives_its_touchpoints_its_feeling(text, expected):
    assert format_aspects(tag_aspects(text, fallback=UNSURE)) == expected


def test_the_aspects_come_in_journey_map_order_not_text_order():
    tags = tag_aspects("环境很好，咖啡好喝，价格便宜，出餐很快，店员热情，小程序好用", fallback=UNSURE)
    order = [tp.id for tp in load_touchpoints()]
    assert list(tags) == [tp for tp in order if tp in tags]
    assert list(tags) == ["app", "value", "speed", "staff", "taste", "environment"]


def test_a_clause_without_polarity_words_takes_the_models_feeling_outside_the_neutral_band():
    assert tag_aspects("咖啡", fallback=_model_says(0.9)) == {"taste": "positive"}
    assert tag_aspects("咖啡", fallback=_model_says(0.1)) == {"taste": "negative"}
    assert tag_aspects("咖啡", fallback=_model_says(0.5)) == {"taste": "neutral"}


def test_the_model_is_asked_only_about_clauses_without_polarity_words():
    asked: list[str] = []

    def fallback(clauses: list[str]) -> np.ndarray:
        asked.extend(clauses)
        return np.full(len(clauses), 0.9)

    tagged = tag_many(["咖啡很好喝，外卖", "服务员"], fallback=fallback)
    assert asked == ["外卖", "服务员"]
    assert tagged == [{"delivery": "positive", "taste": "positive"}, {"staff": "positive"}]


def test_two_clauses_on_one_touchpoint_with_opposite_feelings_read_negative():
    # a complaint next to a compliment is what gets followed up
    assert tag_aspects("咖啡好喝，咖啡太苦", fallback=UNSURE) == {"taste": "negative"}
    assert tag_aspects("咖啡好喝，咖啡香，咖啡太苦", fallback=UNSURE) == {"taste": "positive"}


def test_a_touchpoint_added_to_a_custom_journey_map_is_tagged_without_code_change():
    door = Touchpoint(
        id="parking",
        name_zh="停车",
        name_en="Parking",
        stage_id="arrive",
        stage_name_zh="到店",
        stage_name_en="Arrive",
        stage_order=0,
        touchpoint_order=0,
        channels=("in_store",),
        operational_metric=None,
        review_aspect_keywords=("停车", "车位"),
    )
    touchpoints = (door, *load_touchpoints())
    assert tag_aspects("停车很麻烦，咖啡不错", touchpoints, fallback=UNSURE) == {
        "parking": "negative",
        "taste": "positive",
    }
    assert tag_aspects("停车很麻烦", fallback=UNSURE) == {}  # the packaged map has no parking


def test_traditional_characters_and_full_width_text_are_normalised_first():
    assert tag_aspects("服務態度很好！ＡＰＰ閃退", fallback=UNSURE) == {
        "app": "negative",
        "staff": "positive",
    }


def test_clause_polarity_is_none_without_polarity_words():
    assert clause_polarity("咖啡") is None
    assert clause_polarity("不太好吃") == -1.0  # negated praise, softly said, is a complaint
    assert clause_polarity("不太贵") == 0.5  # a softly negated complaint is mild praise
    assert clause_polarity("一般") == 0.0


def test_format_and_parse_are_inverse():
    tags = {"taste": "positive", "speed": "negative"}
    assert format_aspects(tags) == "taste:positive;speed:negative"
    assert parse_aspects(format_aspects(tags)) == tags
    assert parse_aspects("") == {}


def test_tagging_normalised_texts_gives_what_tagging_the_raw_texts_gives():
    texts = ["好吃但是太慢了", "服務態度很好\n环境一般", "座位有点挤😡，咖啡还行", ""]
    normalised = [normalise(text) for text in texts]
    assert tag_normalised(normalised, fallback=UNSURE) == tag_many(texts, fallback=UNSURE)


def test_a_clause_repeated_across_reviews_is_sent_to_the_model_once():
    asked: list[list[str]] = []

    def model(clauses: list[str]) -> np.ndarray:
        asked.append(list(clauses))
        return np.full(len(clauses), 0.9)

    tagged = tag_many(["咖啡", "咖啡", "味道，咖啡"], fallback=model)
    assert asked == [["咖啡", "味道"]]
    assert [format_aspects(t) for t in tagged] == ["taste:positive"] * 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("等了很久", "negative"),
        ("等位等了四十分钟", "negative"),
        ("排了半天队", "negative"),
        ("排长队", "negative"),
        ("出餐慢", "negative"),
        ("出菜太慢了", "negative"),
        ("半天不上菜", "negative"),
        ("催了几次才上", "negative"),
        ("三个小时才送来", "negative"),
        ("上菜速度太慢", "negative"),
        ("效率低", "negative"),
        ("服务员慢吞吞的", "negative"),
        ("效率很高", "positive"),
        ("上餐很快", "positive"),
        ("几分钟就好了", "positive"),  # not the wish 就好了
        ("不用等位", "positive"),
        ("没等多久就上菜了", "positive"),
        ("等得不久", "positive"),
    ],
)
def test_speed_is_found_in_its_many_phrasings_with_its_feeling(text, expected):
    """Waiting, queueing and slowness, none of them phrases of the labelled reviews; the polarity
    comes from the rule (the model is unsure here)."""
    assert tag_aspects(text, fallback=UNSURE)["speed"] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # negation reaches the word through a denied comparison, not only 4 characters before it
        ("环境没有图片上好看", "environment:negative"),
        ("菜没有以前那么好吃了", "taste:negative"),
        ("房间不如别家干净", "environment:negative"),
        ("咖啡不如星巴克的好喝", "taste:negative"),
        ("服务没有传说中那么差", "staff:positive"),
        ("没有空调，房间很闷", "environment:neutral"),  # no comparison: 没有 is "there is no"
        # 不够 + any adjective is a complaint; 够 + size is praise
        ("房间不够大", "environment:negative"),
        ("分量不够", "value:negative"),
        ("店员不够热情", "staff:negative"),
        ("房间够大", "environment:positive"),
        # softened complaints and wishes
        ("价钱偏贵", "value:negative"),
        ("价格有点贵", "value:negative"),
        ("送餐要是能准时一点就更好了", "speed:negative"),
        ("服务很一般", "staff:negative"),  # a degree word makes 一般 a verdict
        ("服务一般", "staff:neutral"),
        # a topic clause takes the comment that follows it in the same sentence
        ("二十分钟就到了，太给力", "speed:positive"),
        ("环境，设施，早餐，服务都是一流的", "staff:positive;taste:positive;environment:positive"),
        ("二十分钟就到了。太给力", "speed:neutral"),  # a full stop ends the topic's sentence
        ("价格公道缺点:房间很差", "value:positive;environment:negative"),  # ":" ends a clause
        ("11:35下单，14:20才送到", "app:neutral;speed:negative"),  # but not between digits
    ],
)
def test_negation_scope_mild_complaints_and_comments(text, expected):
    assert format_aspects(tag_aspects(text, fallback=UNSURE)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # durations and 等 name the service's speed only where someone waits for it
        ("走5分钟就是地铁站", ""),
        ("离机场10分钟车程", ""),
        ("24小时营业", ""),
        ("装修很久了", "environment:negative"),
        ("床单，被套等一类用品", "environment:neutral"),
        ("等他走了之后我们才出门", ""),
        ("宽带速度很快", ""),
        ("网速很快", ""),
        ("方便快捷", ""),
        ("等了半小时", "speed:negative"),
        ("等了很久才上菜", "speed:negative"),
        ("一个多小时才送到", "speed:negative"),
        ("四十分钟就送到了，很及时", "speed:positive"),
        ("排队排了半天", "speed:negative"),
        ("出餐很快", "speed:positive"),
    ],
)
def test_time_words_name_speed_only_when_someone_waits(text, expected):
    assert format_aspects(tag_aspects(text, fallback=UNSURE)) == expected
