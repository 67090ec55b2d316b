"""Open Chinese comments built from phrase banks per touchpoint and polarity.

Realism the text models must cope with: negation inside positive and negative phrases
(不太好喝, 没有想象中慢, 不算贵), several aspects with opposite feelings joined by a contrast word
(好喝但是等太久了), openers and closers, emoji, typos (的/得, 在/再, homophones) and a share in
traditional characters. The returned aspects/sentiment are the truth: they are chosen first
(from the respondent's own CSAT answers, or a brand's review profile) and the text follows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from cxlake.contracts import CHANNELS
from cxlake.generator.chain import PRODUCTS
from cxlake.generator.planted import Planted
from cxlake.generator.pos import CHANNEL_SHARE
from cxlake.journey import touchpoints_for_channel

POSITIVE, NEGATIVE, MIXED, NEUTRAL = "positive", "negative", "mixed", "neutral"

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "taste": {
        POSITIVE: (
            "{item}很好喝",
            "{item}味道不错",
            "{item}口感很顺滑",
            "{item}不会太甜，刚刚好",
            "咖啡豆很香",
            "{item}一点也不苦",
            "味道比上次还好",
            "{item}真的绝了",
            "口味很稳定",
        ),
        NEGATIVE: (
            "{item}不太好喝",
            "{item}有点酸",
            "味道一般般，没有以前好喝了",
            "{item}太甜了",
            "口感不怎么样",
            "{item}难喝",
            "喝起来有股焦味",
            "{item}淡得像水",
        ),
    },
    "speed": {
        POSITIVE: ("出餐很快", "没有想象中慢", "几分钟就好了", "不用排队", "等得不久", "速度挺快的"),
        NEGATIVE: (
            "等太久了",
            "出餐太慢",
            "等了快二十分钟",
            "排队排了半天",
            "出餐速度不够快",
            "叫号叫得很慢",
        ),
    },
    "staff": {
        POSITIVE: ("店员小姐姐很热情", "服务态度很好", "小哥很耐心", "店员一点也不敷衍", "服务很周到"),
        NEGATIVE: ("店员态度很冷漠", "服务不太好", "店员不怎么理人", "叫了几次都没人理", "态度不太友好"),
    },
    "environment": {
        POSITIVE: ("环境很安静", "座位挺多的", "店里很干净", "一点都不吵", "装修很有感觉"),
        NEGATIVE: ("店里太吵了", "桌子不太干净", "座位太少", "环境一般，有点乱"),
    },
    "value": {
        POSITIVE: ("性价比很高", "不算贵", "用券很划算", "价格实惠", "价格不贵"),
        NEGATIVE: ("价格有点贵", "不太划算", "性价比不高", "越来越贵了", "价钱偏贵"),
    },
    "app": {
        POSITIVE: ("小程序下单很方便", "点单很顺畅", "小程序不卡", "用App点单很快"),
        NEGATIVE: ("小程序老是闪退", "支付了半天没反应", "优惠券用不了", "小程序不太好用", "下单界面很乱"),
    },
    "delivery": {
        POSITIVE: ("外卖送得很快", "骑手很准时", "包装很严实，一点没洒", "送到的时候还是热的"),
        NEGATIVE: ("外卖送太慢了", "咖啡洒了一半", "送到都凉了", "配送不太准时", "包装漏了"),
    },
}
FOOD_TASTE = {
    POSITIVE: ("{item}很好吃", "{item}很新鲜", "{item}烤得刚刚好"),
    NEGATIVE: ("{item}不太好吃", "{item}有点干", "{item}不新鲜"),
}
NEUTRAL_TEXTS = ("还行吧", "一般般吧，没什么特别的", "就那样", "无", "没有", "暂时没有", "还可以", "正常水平")
OPENERS = ("第一次来，", "今天", "经常来这家，", "点了{item}，", "上班路上买的，", "和朋友一起来的，", "这次")
REVIEW_OPENERS = (
    "周末和闺蜜来打卡，",
    "公司楼下的店，",
    "路过顺便买了一杯，",
    "第二次来了，",
    "朋友推荐来的，",
)
CLOSERS = {
    POSITIVE: ("下次还来", "推荐！", "会推荐给朋友", "好评", "继续支持"),
    NEGATIVE: ("希望改进", "有点失望", "不会再来了", "差评"),
    MIXED: ("希望改进一下", "总体还行", "其他都还好"),
}
CONTRASTS = ("但是", "但", "不过", "就是", "可惜", "只是")
EMOJI = {
    POSITIVE: ("😊", "👍", "☕", "❤️", "😋"),
    NEGATIVE: ("😡", "😤", "👎", "😞"),
    MIXED: ("🤔", "😅"),
    NEUTRAL: ("🙂",),
}
TYPOS = (
    ("的", "得"),
    ("得", "的"),
    ("在", "再"),
    ("再", "在"),
    ("味道", "味到"),
    ("咖啡", "咖非"),
    ("服务", "服物"),
    ("态度", "太度"),
    ("排队", "排对"),
    ("实惠", "实会"),
    ("已经", "以经"),
)
_TRAD_PAIRS = (
    "点點 还還 会會 来來 没沒 样樣 难難 几幾 钟鐘 队隊 够夠 号號 员員 热熱 务務 态態 么麼 环環 "
    "静靜 里裡 净淨 装裝 觉覺 乱亂 价價 贵貴 划劃 实實 钱錢 单單 畅暢 闪閃 应應 优優 卖賣 骑騎 "
    "准準 时時 严嚴 洒灑 凉涼 暂暫 无無 经經 这這 买買 荐薦 给給 评評 继繼 续續 进進 总總 体體 "
    "过過 铁鐵 乌烏 龙龍 绿綠 红紅 柠檸 鸡雞 贝貝 苏蘇 麦麥 杨楊 盐鹽 脏髒 门門 们們 让讓 说說 "
    "东東 开開 发發 现現 对對 问問 题題 带帶 间間 换換 饮飲 层層 气氣 边邊 长長 后後 爱愛 欢歡 "
    "两兩 为為 虽雖 级級 别別 种種 闺閨 栖棲 云雲 湾灣 铺鋪 顺順 绝絕 鲜鮮 干乾 错錯 刚剛 稳穩 "
    "习習 惯慣"
)
TRADITIONAL = {pair[0]: pair[1] for pair in _TRAD_PAIRS.split()}
_TRAD_TABLE = str.maketrans(TRADITIONAL)


def to_traditional(text: str) -> str:
    return text.translate(_TRAD_TABLE)


def overall_sentiment(aspects: dict[str, str]) -> str:
    kinds = set(aspects.values())
    if not kinds:
        return NEUTRAL
    return kinds.pop() if len(kinds) == 1 else MIXED


def aspects_from_ratings(rnd: random.Random, ratings: dict[str, int | None]) -> dict[str, str]:
    """Pick 1-3 rated touchpoints to talk about, extreme ratings more often; 3s are not mentioned."""
    candidates = [(tp, r) for tp, r in ratings.items() if r is not None and r != 3]
    wanted = min(len(candidates), rnd.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0])
    chosen: dict[str, str] = {}
    while len(chosen) < wanted:
        pool = [(tp, r) for tp, r in candidates if tp not in chosen]
        tp, r = rnd.choices(pool, weights=[2 if r in (1, 5) else 1 for _, r in pool])[0]
        chosen[tp] = POSITIVE if r >= 4 else NEGATIVE
    return {tp: chosen[tp] for tp in ratings if tp in chosen}


def compose(
    rnd: random.Random, aspects: dict[str, str], item: str, food: bool = False, review: bool = False
) -> str:
    """Text whose aspects and polarities are exactly `aspects` (or a neutral remark when empty)."""
    return compose_with_clauses(rnd, aspects, item, food, review)[0]


def compose_with_clauses(
    rnd: random.Random, aspects: dict[str, str], item: str, food: bool = False, review: bool = False
) -> tuple[str, dict[str, str]]:
    """:func:`compose`, also returning the phrase drawn for each touchpoint, so a later step (the
    staff member named in a comment, :mod:`cxlake.generator.staff_mentions`) can find its clause
    in the text without drawing from ``rnd``: the comments stream stays as it was."""
    sentiment = overall_sentiment(aspects)
    if sentiment == NEUTRAL:
        return _decorate(rnd, rnd.choice(NEUTRAL_TEXTS), sentiment), {}
    clauses = {POSITIVE: [], NEGATIVE: []}
    drawn: dict[str, str] = {}
    for tp, polarity in aspects.items():
        bank = FOOD_TASTE if tp == "taste" and food else PHRASES[tp]
        drawn[tp] = rnd.choice(bank[polarity]).format(item=item)
        clauses[polarity].append(drawn[tp])
    sep = rnd.choice(("，", "，", ",", " ", "。"))
    if sentiment == MIXED:
        first, second = (POSITIVE, NEGATIVE) if rnd.random() < 0.7 else (NEGATIVE, POSITIVE)
        body = (
            sep.join(clauses[first])
            + rnd.choice(("，", ""))
            + rnd.choice(CONTRASTS)
            + sep.join(clauses[second])
        )
    else:
        body = sep.join(clauses[sentiment])
    if rnd.random() < (0.6 if review else 0.2):
        body = (
            rnd.choice(REVIEW_OPENERS if review and rnd.random() < 0.5 else OPENERS).format(item=item) + body
        )
    if rnd.random() < (0.5 if review else 0.25):
        body += rnd.choice(("，", "。", " ")) + rnd.choice(CLOSERS[sentiment])
    return _decorate(rnd, body + rnd.choice(("", "。", "！", "!", "~", "。。")), sentiment), drawn


def _decorate(rnd: random.Random, text: str, sentiment: str) -> str:
    """Typos, traditional characters and emoji, each for a share of comments."""
    if rnd.random() < 0.12:
        present = [pair for pair in TYPOS if pair[0] in text]
        if present:
            wrong, typo = rnd.choice(present)
            text = text.replace(wrong, typo, 1)
    if rnd.random() < 0.1:
        text = to_traditional(text)
    if rnd.random() < 0.2:
        text += "".join(rnd.choice(EMOJI[sentiment]) for _ in range(rnd.randint(1, 3)))
    return text


@dataclass(frozen=True)
class LabelledComment:
    text: str
    aspects: dict[str, str]
    sentiment: str


def sample_comments(seed: int, n: int, planted: Planted | None = None) -> list[LabelledComment]:
    """``n`` survey comments with their truth, written as the survey simulation writes them: each
    respondent's CSAT per touchpoint of a channel from the planted model (its mean, per-touchpoint
    offsets, respondent mood and noise; store quality, waits and gaming left out), then
    :func:`aspects_from_ratings` and :func:`compose` about a product drawn by popularity. For
    evaluating the text models on the generator's truth without generating a whole demo."""
    p = planted or Planted()
    rnd, rng = random.Random(seed), np.random.default_rng(seed)
    rated = {ch: [tp.id for tp in touchpoints_for_channel(ch) if tp.id in p.csat_offsets] for ch in CHANNELS}
    weights = [product[4] for product in PRODUCTS]
    comments = []
    for _ in range(n):
        channel = rnd.choices(CHANNELS, CHANNEL_SHARE)[0]
        mood = rng.normal(0, p.mood_sd)
        raw = {
            tp: p.csat_mean + p.csat_offsets[tp] + mood + rng.normal(0, p.csat_noise_sd)
            for tp in rated[channel]
        }
        ratings: dict[str, int | None] = {tp: int(np.clip(np.rint(value), 1, 5)) for tp, value in raw.items()}
        aspects = aspects_from_ratings(rnd, ratings)
        _, name, category, _, _ = rnd.choices(PRODUCTS, weights)[0]
        text = compose(rnd, aspects, name, food=category >= 2)
        comments.append(LabelledComment(text, aspects, overall_sentiment(aspects)))
    return comments
