"""Normalisation and segmentation: domain words whole, traditional folded, emoji and punctuation out."""

from __future__ import annotations

import pytest

from cxlake.text.normalise import normalise, sentences
from cxlake.text.segment import (
    DEGREE_WORDS,
    NEGATIONS,
    STOPWORDS,
    clause_tokens,
    raw_tokens,
    split_clauses,
    tokens,
)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("出餐太慢了，等了半天", "出餐"),  # jieba alone keeps 出餐 only by luck; the dictionary pins it
        ("小程序老是闪退", "小程序"),  # jieba alone splits it into 小 / 程序
        ("燕麦拿铁很好喝", "燕麦拿铁"),  # a menu item: jieba alone gives 燕麦 / 拿 / 铁
        ("点了外卖，骑手很准时", "外卖"),
        ("用券很划算，性价比很高", "性价比"),
    ],
)
def test_domain_words_stay_whole(text, word):
    assert word in tokens(text)


def test_traditional_text_is_tokenised_in_simplified():
    assert tokens("服務態度很好") == ["服务", "态度", "很", "好"]


def test_emoji_punctuation_and_spaces_never_become_tokens():
    assert tokens("好喝😍👍🏻！！出餐很快~~ 下次再来。。。#探店") == [
        "好喝",
        "出餐",
        "很快",
        "下次",
        "来",
        "探店",
    ]


def test_stopwords_go_from_tokens_but_negations_stay_in_raw_tokens():
    assert raw_tokens("我觉得不好喝") == ["我", "觉得", "不", "好喝"]
    assert tokens("我觉得不好喝") == ["不", "好喝"]
    assert NEGATIONS.isdisjoint(STOPWORDS)


def test_normalise_folds_width_and_drops_emoji_but_keeps_sentence_punctuation():
    assert normalise("ＡＰＰ很卡😡，還要排隊！") == "APP很卡 ,还要排队!"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("好喝，但是等太久了！", ["好喝", "但是等太久了"]),
        ("环境很安静。\n\n座位挺多的😊", ["环境很安静", "座位挺多的"]),  # newline splits; emoji-only gap gone
        ("，，。", []),  # punctuation only: nothing left
        ("", []),
    ],
)
def test_sentences_split_on_clause_punctuation_and_newlines(text, expected):
    assert sentences(text) == expected


def test_clause_tokens_keep_a_negation_inside_its_clause():
    assert clause_tokens("店员很热情，不太好喝") == [["店员", "很", "热情"], ["不太", "好喝"]]


def test_word_lists_load_from_the_data_files():
    assert {"不", "没有", "不太"} <= NEGATIONS
    assert DEGREE_WORDS["非常"] == 2.0 and DEGREE_WORDS["有点"] == 0.5
    assert "的" in STOPWORDS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("店员很热情，不太好喝", [["店员", "很", "热情"], ["不太", "好喝"]]),
        (
            "环境很安静。\n\n座位挺多的😊",
            [["环境", "很", "安静"], ["座位", "挺", "多", "的"]],
        ),  # a line break ends one
        ("，，。", []),  # punctuation only: no empty clauses
        ("", []),
    ],
)
def test_one_jieba_pass_split_at_punctuation_gives_the_clauses(text, expected):
    assert split_clauses(normalise(text), hmm=False) == expected
