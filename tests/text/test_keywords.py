"""Keywords of a group of reviews: an IDF from the reviews themselves, TF-IDF, TextRank, trends."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from cxlake.text.keywords import (
    TRENDING_COLUMNS,
    PeriodCounts,
    build_idf,
    central_words,
    is_keyword,
    keyword_counts,
    median_idf,
    review_cooccurrences,
    textrank_keywords,
    tfidf_keywords,
    top_tfidf,
    trending,
)
from cxlake.text.segment import NEGATIONS, STOPWORDS, tokens

REVIEWS = [
    "咖啡很好喝，服务态度很好",
    "咖啡太苦了，出餐速度太慢",
    "奶茶好喝，咖啡一般",
    "外卖送达很快，包装很好",
]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("好喝", True),  # a content word
        ("生椰拿铁", True),  # a menu item from the domain dictionary
        ("咖啡", True),  # the chain's own product: frequent, but kept
        ("有点", False),  # a degree adverb says nothing alone
        ("一点也不", False),  # a negation: the sentiment model reads it, the cloud does not
        ("不太", False),
        ("没有", False),
        ("第一次", False),  # a hedge / scene-setting word from the stopword list
        ("希望", False),
        ("这家", False),
        ("不好喝", True),  # a negated sentiment word jieba keeps whole is a keyword of its own
        ("00123", False),  # digits only
        ("3.5", False),
        ("v2", True),  # letters and digits: a product code can be a keyword
        ("好", False),  # one character, as in jieba.analyse
        ("的", False),
    ],
)
def test_a_keyword_says_something_on_its_own(word, expected):
    assert is_keyword(word) is expected


def test_negations_stay_in_the_tokens_but_never_become_keywords():
    # regression: 有点, 不太, 一点也不, 没有 topped the demo's keywords
    text = "今天第一次来这家，有点失望，咖啡一点也不好喝，没有以前好喝，希望继续改进"
    assert {"有点", "一点也不", "没有"} <= set(tokens(text))
    keywords = tfidf_keywords([text], build_idf([text]), top_k=20)
    assert set(keywords) == {"失望", "咖啡", "好喝", "改进"}
    assert not NEGATIONS & set(textrank_keywords([text], top_k=20))


def test_the_idf_is_counted_on_the_reviews_themselves():
    idf = build_idf(REVIEWS)
    # 咖啡 is in 3 of 4 reviews, 奶茶 in one: smoothed log((1 + n) / (1 + df)) + 1
    assert idf["咖啡"] == pytest.approx(math.log(5 / 4) + 1)
    assert idf["奶茶"] == pytest.approx(math.log(5 / 2) + 1)
    assert idf["奶茶"] > idf["咖啡"]


def test_tfidf_keywords_rank_frequent_and_rare_words_first_and_skip_stopwords_and_single_characters():
    idf = build_idf(REVIEWS)
    keywords = tfidf_keywords(REVIEWS, idf, top_k=3)
    assert keywords[0] == "咖啡"  # three uses outweigh a rarer word's higher IDF
    assert all(len(word) >= 2 for word in tfidf_keywords(REVIEWS, idf, top_k=50))
    assert "的" not in tfidf_keywords(["咖啡的味道的确不错的"], idf, top_k=50)


def test_one_rows_keywords_match_jieba_analyse_on_the_same_text():
    # score-reviews ranks each row's tokens itself; it must agree with the group extractor
    idf = build_idf(REVIEWS)
    for text in REVIEWS:
        assert top_tfidf(tokens(text), idf, 5, median_idf(idf)) == tfidf_keywords([text], idf, top_k=5)


def test_textrank_ranks_the_best_connected_word_first():
    texts = ["咖啡好喝，咖啡香浓", "咖啡好喝", "外卖包装很好"] * 3
    assert textrank_keywords(texts, top_k=1) == ["咖啡"]
    assert set(textrank_keywords(texts, top_k=10)) == {"咖啡", "好喝", "香浓", "外卖", "包装"}


# Reviews as the demo writes them, with repeated, linked and isolated words.
CORPUS = [
    "这次柠檬红茶口感很顺滑，座位挺多得，不过性价比不高",
    "点了柠檬红茶，没有想象中慢。一点都不吵。下次还来~",
    "茉莉奶绿不会太甜，刚刚好。好评。",
    "店员态度很好，咖啡好喝，价格也划算",
    "排队太久了，店员态度冷漠，咖啡一般",
    "咖啡很好喝，环境安静，适合办公，店员热情",
    "外卖包装很好，送达很快，咖啡还是热的",
    "价格有点贵，但是咖啡味道不错，会再来",
    "周末人太多，没有座位，出餐速度太慢\n下次工作日再来试试",
    "生椰拿铁好喝，店员推荐的新品也不错",
]


def _jieba_textrank(texts: list[str], top_k: int) -> list[str]:
    """jieba.analyse.TextRank itself over our segmentation, one review per line followed by a
    window of boundary pairs (how the Voice page ranked the texts before the counts were stored)."""
    import jieba.analyse

    class Pair:
        def __init__(self, word: str, flag: str) -> None:
            self.word, self.flag = word, flag

    class Tokenizer:
        def cut(self, sentence: str):
            pairs = []
            for line in sentence.split("\n"):
                pairs += [Pair(w, "x" if is_keyword(w) else "skipped") for w in tokens(line)]
                pairs += [Pair("", "boundary")] * 4
            return iter(pairs)

    extractor = jieba.analyse.TextRank()
    extractor.tokenizer = extractor.postokenizer = Tokenizer()
    extractor.stop_words = set(STOPWORDS)
    return extractor.textrank("\n".join(texts), topK=top_k, allowPOS=("x",))


def test_central_words_of_summed_review_counts_are_jiebas_textrank_of_the_texts():
    # what the pipeline stores per review, summed in any order and ranked, is what jieba finds
    summed = Counter()
    for text in reversed(CORPUS):
        summed.update(review_cooccurrences(text))
    for top_k in (1, 5, 12, 50):
        assert central_words(summed, top_k) == _jieba_textrank(CORPUS, top_k)
    assert textrank_keywords(CORPUS, top_k=12) == _jieba_textrank(CORPUS, 12)
    assert central_words({}, 5) == []


def test_a_review_links_each_keyword_to_the_keywords_among_the_next_four_words():
    # 很 is no keyword but holds its place: 咖啡 reaches 店员, not 热情
    assert review_cooccurrences("咖啡很好喝，店员很热情") == {
        ("咖啡", "好喝"): 1, ("咖啡", "店员"): 1, ("好喝", "店员"): 1, ("好喝", "热情"): 1,
        ("店员", "热情"): 1,
    }  # fmt: skip
    assert review_cooccurrences("拿铁拿铁") == {("拿铁", "拿铁"): 1}
    assert review_cooccurrences("咖啡\n好喝") == {}  # a line break ends the window
    assert review_cooccurrences("") == {}


def test_a_piece_of_a_contact_detail_is_no_node():
    # the stored words are shown on a page: zhangsan of zhangsan@163.com would leak what masking hides
    pairs = review_cooccurrences("咖啡好喝 请联系 zhangsan@163.com 店员热情")
    words = {word for pair in pairs for word in pair}
    assert {"咖啡", "好喝", "店员", "热情"} <= words
    assert not {"zhangsan", "163", "com"} & words


def test_textrank_links_words_within_one_review_only():
    # two one-word reviews: no co-occurrence at all, so no keyword; joined, they would link
    assert textrank_keywords(["咖啡", "外卖"], top_k=5) == []
    assert set(textrank_keywords(["咖啡外卖"], top_k=5)) == {"咖啡", "外卖"}
    assert textrank_keywords([], top_k=5) == []


def test_trending_lifts_words_that_grew_and_drops_rare_ones():
    # 100 reviews in each period; 排队 from 2 to 20 reviews, 闪退 in 2 only (below min_count)
    current = PeriodCounts(100, {"排队": 20, "咖啡": 40, "闪退": 2})
    previous = PeriodCounts(100, {"排队": 2, "咖啡": 40, "好喝": 8})
    frame = trending(current, previous, min_count=3)
    assert list(frame.columns) == list(TRENDING_COLUMNS)
    assert frame["keyword"].tolist() == ["排队"]
    row = frame.iloc[0]
    assert (row["current"], row["previous"]) == (20, 2)
    assert (row["current_share"], row["previous_share"]) == (0.2, 0.02)
    assert row["lift"] == pytest.approx((20.5 / 101) / (2.5 / 101))
    assert row["p_value"] < 0.001


def test_a_generic_word_as_common_as_before_is_no_trend_however_often_it_is_used():
    # regression: 咖啡 topped the list, its lift computed against a period without data; a word in
    # the same share of reviews in both periods is not rising, even in a busier period
    current = PeriodCounts(300, {"咖啡": 150, "拿铁": 60})
    previous = PeriodCounts(100, {"咖啡": 50, "拿铁": 20})
    assert trending(current, previous, min_count=1).empty


def test_a_small_rise_on_few_reviews_is_chance_not_a_trend():
    # 3 of 5 reviews now, none of 5 before: Fisher's one-sided p = C(5,3)/C(10,3) = 1/12
    current, previous = PeriodCounts(5, {"贵": 3}), PeriodCounts(5, {})
    assert trending(current, previous).empty
    # the same shares on 20 times the reviews are a trend
    frame = trending(PeriodCounts(100, {"贵": 60}), PeriodCounts(100, {}))
    assert frame["keyword"].tolist() == ["贵"] and math.isfinite(frame.loc[0, "lift"])


def test_many_words_tested_at_once_are_adjusted_for_chance():
    # 40 words each a little more common now (p about 0.03 alone): by chance, one in 20 would pass
    words = {f"词{i:02d}": 12 for i in range(40)}
    before = {f"词{i:02d}": 4 for i in range(40)}
    frame = trending(PeriodCounts(100, words), PeriodCounts(100, before), false_discovery_rate=0.01)
    assert frame.empty
    assert len(trending(PeriodCounts(100, words), PeriodCounts(100, before), false_discovery_rate=0.5)) == 40


def test_nothing_to_compare_with_is_said_not_computed():
    with pytest.raises(ValueError, match="nothing to compare with"):
        trending(PeriodCounts(100, {"咖啡": 80}), PeriodCounts(0, {}))
    assert trending(PeriodCounts(0, {}), PeriodCounts(10, {"咖啡": 5})).empty


@pytest.mark.parametrize(
    ("reviews", "counts", "message"),
    [
        (-1, {}, "fewer than none"),
        (3, {"咖啡": 4}, "'咖啡': 4 reviews name it, of 3"),
        (3, {"咖啡": -1}, "-1"),
    ],
)
def test_counts_that_cannot_be_are_refused_with_the_word(reviews, counts, message):
    with pytest.raises(ValueError, match=message):
        PeriodCounts(reviews, counts)


def test_keyword_counts_count_each_review_once_per_word():
    counts = keyword_counts(["咖啡咖啡咖啡", "咖啡好喝", ""])
    assert counts.reviews == 3
    assert counts.counts["咖啡"] == 2 and counts.counts["好喝"] == 1
