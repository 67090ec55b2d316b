"""Aspect tagging: which journey touchpoints a review talks about, and how it feels about each.

Each clause of a review (split on punctuation and on contrast words such as 但是, so that
好吃但是太慢了 is two clauses) is tied to touchpoints by the journey map's
``review_aspect_keywords``, and every touchpoint it names gets that clause's polarity:

1. a polarity-word rule: the domain words below, each flipped by a negation just before it
   (不/没/没有/别/无/未/非, 没有想象中…; two negations cancel) or by a comparison that the
   clause's 没有/不如 denies (环境没有图片上好看), summed. Negating praise is a complaint however
   softly it is said (不太好 is 不好), while a softened negated complaint is only mild praise
   (不太贵: +0.5). A wish (…就更好了) weighs double: the praise inside its condition is what is
   missing;
2. where the clause has no polarity word, the clause after it in the same sentence when that one
   judges without naming a touchpoint (二十分钟到了，太给力: a topic, then its comment), or that
   clause's feeling when this one only lists touchpoints (环境，设施，服务都是一流的);
3. otherwise the sentiment model's probability of the clause, neutral inside :data:`NEUTRAL_BAND`.

Durations and the verb 等 name the speed of service only where the clause speaks of waiting,
serving or delivering and not of a journey (走5分钟就是地铁站, 24小时热水, 装修很久, 床单等);
pace words (快, 速度) about the network (网速很快) are not the service's either.

Matching is on characters, not jieba tokens: jieba keeps 太慢 and 中慢 whole, which would hide
the 慢 a lexicon looks for. Keywords and polarity words are matched longest first, and the
shadow words below (快递 for 快, 出差 for 差) are matched only to be skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cxlake.journey import Touchpoint, load_touchpoints
from cxlake.text.normalise import normalise

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
NEUTRAL_BAND = (0.35, 0.65)  # model probabilities read as "no feeling" for a clause without polarity words
NEGATION_WINDOW = 4  # characters before a polarity word searched for a negation
Fallback = Callable[[list[str]], np.ndarray]

# Domain polarity words (weight > 0 positive, < 0 negative, 0 = an explicit "so-so").
_POSITIVE_WORDS = (
    "好 好吃 好喝 美味 可口 不错 满意 赞 棒 给力 喜欢 推荐 快 及时 准时 干净 整洁 安静 舒适 舒服 宽敞 "
    "热情 周到 耐心 礼貌 友好 亲切 便宜 实惠 划算 超值 物有所值 物超所值 公道 合理 新鲜 鲜嫩 入味 热乎 "
    "好评 完美 优秀 一流 到位 精致 丰富 清爽 方便 快捷 高效 效率高 优雅 漂亮 温馨 贴心 专业 量大 量足 "
    "效率很高 效率挺高 分钟就好了 会儿就好了 马上就好了 很快就好了 不用等 不用排队 "
    "量多 惬意 大赞 点赞 超赞 放心 值得 香 凉快 愉快 没的说 没得说 没话说 无可挑剔 无敌 美 负责 "
    "很大 挺大 超大 够大 好看"
)
_NEGATIVE_WORDS = (
    "差 差点 难吃 难喝 不好 糟糕 垃圾 失望 慢 晚 迟 迟到 超时 久 好久 贵 坑 脏 乱 吵 噪音 冷漠 恶劣 "
    "无语 凉 冰凉 洒 撒 漏 破 烂 咸 腻 油腻 硬 太少 偏少 量少 量小 太小 很小 偏小 好小 旧 陈旧 破旧 "
    "老化 坏 臭 异味 恶心 馊 发霉 变质 蟑螂 头发 投诉 差评 退款 不值 上当 欺骗 气愤 郁闷 生气 不满 "
    "麻烦 问题 有待 不敢恭维 一塌糊涂 粗糙 闪退 催 焦 糊 坨 粗鲁 敷衍 爱理不理 骗 快点 太辣 遗憾 "
    "不舒服 折腾 难受 后悔 醉了 苦 挤 不行 欠佳 湿 萧条 油 太重 不合 丢 偏高 过于简单 不怎么样 有毛用 "
    "就更好了 就好了 少 有点小 较小 小了 不大 等了 半天 才送 才到 才来 才上 磨蹭 拖拉 慢吞吞 "
    "排长队 效率低 效率太低 效率很低 不够 单调 很一般 比较一般 太一般 非常一般 十分一般 特别一般"
)
# A wish names what is missing: 准时一点就更好了 complains about the time, whatever 准时 says.
_WISH_WORDS = "就更好了 就好了 就完美了"
_NEUTRAL_WORDS = "一般 一般般 还行 还可以 凑合 中规中矩 马马虎虎 还好"
# Matched so that the words inside them are not: 快递 is no 快, 出差 no 差, 不好意思 no 不好.
_SHADOW_WORDS = (
    "快递 快餐 尽快 赶快 快乐 出差 差不多 贵宾 凉皮 凉面 晚上 晚餐 晚饭 今晚 傍晚 好像 好多 好几 只好 "
    "正好 刚好 最好 好在 好处 不好意思 慢慢 臭豆腐 香港 香菇 等等 等级 一等 网速 网络速度 下水 菜单 点菜 "
    "质量 小时候 问题不大 没问题 硬件 凉快 凉菜 愉快 依旧 仍旧 差价 持久 久违 永久 贵州 宝贵 "
    "快要 快被 快一个 快一小时 快两个 香锅 香肠 香菜 香蕉 中等 上等 起床 辛苦 多少 至少 美元 美国 "
    "油条 加油 丢失 刚才 方才 好好 快捷"
)
POLARITY: dict[str, float] = {
    **dict.fromkeys(_POSITIVE_WORDS.split(), 1.0),
    **dict.fromkeys(_NEGATIVE_WORDS.split(), -1.0),
    **dict.fromkeys(_NEUTRAL_WORDS.split(), 0.0),
    **dict.fromkeys(_WISH_WORDS.split(), -2.0),
    "没问题": 1.0,
    "问题不大": 1.0,
}
_SHADOWS = frozenset(_SHADOW_WORDS.split())
# Polarity words that, right before another polarity word, only modify it (好贵, 不够热情).
_MODIFIERS = frozenset({"好", "不够"})

# Clause breaks beyond normalise.sentences: contrast words, the "." "…" "~" and spaces that
# reviews use as full stops (a "." between digits is a decimal point), and ":" (缺点:房间小; a
# ":" between digits is a time of day).
CONTRAST_WORDS = ("但是", "可是", "不过", "然而", "只是", "但")
_CONTRAST = re.compile(r"但是|可是|不过|然而|只是|(?<!不)但|(?<!\d)[.:]|[.:](?!\d)|…|~|\s+")
# Every clause break (sentence punctuation, then the contrast breaks; spaces too, where normalise
# left a line break) in one pattern; the lookahead on their first characters lets every other
# position fail at once.
_CLAUSE_BREAK = re.compile(
    r"(?=[。！？!?；;，,但可不然只.:…~\s])(?:[。！？!?；;，,]+|" + _CONTRAST.pattern + ")"
)
_COMMA = re.compile(r"[，,]+")  # a break inside one sentence: a comment may follow its topic
# Words with a negation character that negate nothing; blanked before negations are counted.
_NOT_NEGATING = re.compile(
    r"不得不|不仅|不但|不管|不论|无论|不停|无比|非常|未来|不一定|差不多|特别|别的|别人|别家|别处|区别|分别|级别|没想到"
    r"|无法"
)
_WEAK_NEGATION = re.compile(r"不太|不够|不怎么|不是很|不算|不大|没那么|不是太")
_NEGATION = re.compile(r"没有|不|没|别|无|未|非|毫无")
_BELOW_EXPECTATION = re.compile(r"没有?(?:想象|想像|预想|预期|传说|说的)中的?$")
# A comparison the clause denies: 不如 + anything, or 没有 + its standard (图片上, 以前, 那么) + the word.
_DENIED_COMPARISON = re.compile(
    r"(?:不如[^#]{0,8}|没有?[^#]{0,8}?(?:那么|这么|那样|这样|那般|以前|之前|以往|上次|图片|照片|网上"
    r"|想象|想像|描述|宣传|介绍|说的|别家|别的|其他|其它|[上中里])的?[^#]{0,2})$"
)
# Speed keywords read by their context: durations and 等 name waiting only beside a waiting,
# serving or delivering word and away from a journey; pace words never about the network.
_DURATION = re.compile(r"分钟|小时|钟头|半天|很久|好久|太久|多久")
_WAIT_VERB = re.compile(r"等(?=[了待候着餐位座菜上到不得半几好很太]|[一两二三四五六七八九十0-9](?!类)|$)")
_WAITING_CONTEXT = re.compile(
    r"等|送|到(?=了|手|家|货|达|$)|达|上菜|上餐|出餐|出菜|做|排|催|才|花了|用了|超时|晚|迟|慢|快|速度|效率"
    r"|取餐|下单|点餐|订餐|外卖|配送|骑手|就[好到来上送]"
)
_JOURNEY_CONTEXT = re.compile(r"走|步行|距离|离|车程|开车|打车|坐车|地铁|公交|路程|公里|机场|车站")
_PACE = re.compile(r"快|慢|速度|效率")
_NETWORK_CONTEXT = re.compile(r"网速|宽带|上网|网络|wifi|信号|电梯")


def _alternation(words: Sequence[str]) -> re.Pattern[str]:
    """One pattern matching any of ``words``, longest first, so 不好意思 wins over 不好."""
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w))))


@dataclass(frozen=True)
class AspectLexicon:
    """The journey map's keywords as one pattern, and each keyword's touchpoints (map order)."""

    order: tuple[str, ...]
    touchpoints_of: dict[str, tuple[str, ...]]
    pattern: re.Pattern[str]


@lru_cache(maxsize=8)
def aspect_lexicon(touchpoints: tuple[Touchpoint, ...]) -> AspectLexicon:
    """Built once per journey map version; keywords are matched case-insensitively."""
    owners: dict[str, list[str]] = {}
    for tp in touchpoints:
        for keyword in tp.review_aspect_keywords:
            ids = owners.setdefault(keyword.lower(), [])
            if tp.id not in ids:
                ids.append(tp.id)
    shadows = [w for w in _SHADOWS if w not in owners]
    return AspectLexicon(
        order=tuple(tp.id for tp in touchpoints),
        touchpoints_of={word: tuple(ids) for word, ids in owners.items()},
        pattern=_alternation([*owners, *shadows]),
    )


_POLARITY_PATTERN = _alternation([*POLARITY, *(_SHADOWS - set(POLARITY))])


@dataclass(frozen=True)
class Mention:
    """A clause that names touchpoints; ``score`` is None when it has no polarity word."""

    touchpoints: tuple[str, ...]
    score: float | None
    clause: str


def _negation(blanked: str, start: int, floor: int) -> tuple[bool, bool]:
    """(negated, weakly) for the polarity word at ``start``: a negation just before it (two
    cancel), else a comparison denied anywhere earlier in its clause (``floor`` on)."""
    window = blanked[max(floor, start - NEGATION_WINDOW - 2) : start]
    if _BELOW_EXPECTATION.search(window):  # 没有想象中慢: the expectation is what is negated
        return True, False
    near = window[-NEGATION_WINDOW:]
    weak = len(_WEAK_NEGATION.findall(near))
    strong = len(_NEGATION.findall(_WEAK_NEGATION.sub("#", near)))
    if weak + strong:
        return (weak + strong) % 2 == 1, weak > 0
    return bool(_DENIED_COMPARISON.search(blanked[floor:start])), False


def _negated_weight(weight: float, blanked: str, start: int, floor: int) -> float:
    """A polarity word's weight after its negation: negated praise is a full complaint (不太好 is
    不好), a softly negated complaint only mild praise (不太贵)."""
    negated, weakly = _negation(blanked, start, floor)
    if not negated:
        return weight
    return -weight / 2 if weakly and weight < 0 else -weight


def clause_polarity(clause: str) -> float | None:
    """Sum of the clause's polarity words after negation; None when it has none."""
    matches = [m for m in _POLARITY_PATTERN.finditer(clause) if m.group() in POLARITY]
    return _polarity(_blank_not_negating(clause), matches, 0)


def _blank_not_negating(text: str) -> str:
    return _NOT_NEGATING.sub(lambda m: "#" * len(m.group()), text)


def _polarity(blanked: str, matches: Sequence[re.Match[str]], floor: int) -> float | None:
    """Sum of one clause's polarity ``matches`` after negation (positions in ``blanked``, the text
    with non-negating words blanked; the clause starts at ``floor``); None when there are none."""
    total: float | None = None
    previous_end = floor
    for index, match in enumerate(matches):
        word = match.group()
        following = matches[index + 1] if index + 1 < len(matches) else None
        if word in _MODIFIERS and following is not None and following.start() == match.end():
            if word == "好":  # 好难吃, 好贵: here 好 is a degree adverb
                previous_end = match.end()
            continue  # 不够热情: 不够 is the negation of what follows, read there
        total = (total or 0.0) + _negated_weight(POLARITY[word], blanked, match.start(), previous_end)
        previous_end = match.end()
    return total


def _names_touchpoint(keyword: str, clause: str, at: int) -> bool:
    """Whether ``keyword`` (at ``at`` in ``clause``) names its touchpoints here: see the module
    docstring on durations, 等 and pace words."""
    if _PACE.search(keyword) and _NETWORK_CONTEXT.search(clause):
        return False
    if keyword == "等":
        return bool(_WAIT_VERB.match(clause, at))
    if _DURATION.search(keyword):
        return bool(_WAITING_CONTEXT.search(clause)) and not _JOURNEY_CONTEXT.search(clause)
    return True


@dataclass
class _Clause:
    start: int
    end: int
    comma_after: bool  # the next clause continues the same sentence
    ids: list[str]
    score: float | None
    bare: bool  # names touchpoints and says nothing else (环境，设施，服务都是一流的)


def _mentions_of_normalised(normalised: str, lexicon: AspectLexicon) -> list[Mention]:
    """Each clause (:data:`_CLAUSE_BREAK` cuts them) that names at least one touchpoint, with its
    rule-based score, or the score of the clause that comments on it (module docstring). Each
    pattern runs once over the whole text and its matches are dealt to the clauses by position:
    no word of the lexicons contains a clause break, so no match crosses one."""
    lowered = normalised.lower()
    named = [m for m in lexicon.pattern.finditer(lowered) if m.group() in lexicon.touchpoints_of]
    if not named:
        return []  # most of the work is per clause; a text naming no touchpoint needs none of it
    feeling = [m for m in _POLARITY_PATTERN.finditer(lowered) if m.group() in POLARITY]
    blanked = _blank_not_negating(lowered) if feeling else lowered
    breaks = list(_CLAUSE_BREAK.finditer(lowered))
    spans = [0, *(i for b in breaks for i in b.span()), len(lowered)]
    clauses: list[_Clause] = []
    next_named = next_feeling = 0
    for index, (start, end) in enumerate(zip(spans[::2], spans[1::2], strict=True)):
        text = lowered[start:end]
        ids: list[str] = []
        keyword_chars = 0
        while next_named < len(named) and named[next_named].start() < end:
            match = named[next_named]
            next_named += 1
            if not _names_touchpoint(match.group(), text, match.start() - start):
                continue
            keyword_chars += len(match.group())
            ids += [tp for tp in lexicon.touchpoints_of[match.group()] if tp not in ids]
        first = next_feeling
        while next_feeling < len(feeling) and feeling[next_feeling].start() < end:
            next_feeling += 1
        comma = index < len(breaks) and bool(_COMMA.fullmatch(breaks[index].group()))
        clauses.append(
            _Clause(
                start,
                end,
                comma,
                ids,
                _polarity(blanked, feeling[first:next_feeling], start),
                bare=bool(ids) and keyword_chars == len(text.strip()),
            )
        )
    for here, after in zip(reversed(clauses[:-1]), reversed(clauses[1:]), strict=True):
        taken = here.score is None and here.comma_after and after.score is not None
        if here.ids and taken and (here.bare or not after.ids):
            here.score = after.score
    return [Mention(tuple(c.ids), c.score, lowered[c.start : c.end]) for c in clauses if c.ids]


def rules_identity() -> list:
    """Every rule of this module that decides a tag (word lists, patterns, thresholds), as plain
    data: a change to any of them must rescore the texts tagged before it."""
    patterns = (
        _CLAUSE_BREAK,
        _COMMA,
        _NOT_NEGATING,
        _WEAK_NEGATION,
        _NEGATION,
        _BELOW_EXPECTATION,
        _DENIED_COMPARISON,
        _DURATION,
        _WAIT_VERB,
        _WAITING_CONTEXT,
        _JOURNEY_CONTEXT,
        _PACE,
        _NETWORK_CONTEXT,
    )
    return [
        sorted(POLARITY.items()),
        sorted(_SHADOWS),
        [pattern.pattern for pattern in patterns],
        list(NEUTRAL_BAND),
        NEGATION_WINDOW,
    ]


def _label(score: float) -> str:
    return POSITIVE if score > 0 else NEGATIVE if score < 0 else NEUTRAL


def _label_probability(probability: float) -> str:
    low, high = NEUTRAL_BAND
    return NEGATIVE if probability < low else POSITIVE if probability > high else NEUTRAL


def _combine(labels: list[str]) -> str:
    """Several clauses on one touchpoint: the majority feeling; a tie between feelings reads negative
    (a complaint next to a compliment is what CX follows up), no feeling at all reads neutral."""
    balance = labels.count(POSITIVE) - labels.count(NEGATIVE)
    if balance:
        return POSITIVE if balance > 0 else NEGATIVE
    return NEGATIVE if NEGATIVE in labels else NEUTRAL


def _default_fallback(texts: list[str]) -> np.ndarray:
    from cxlake.text.sentiment import load_model

    return load_model().predict_proba(texts)


def tag_many(
    texts: Sequence[str],
    touchpoints: Sequence[Touchpoint] | None = None,
    fallback: Fallback | None = None,
) -> list[dict[str, str]]:
    """:func:`tag_aspects` for many texts, with one model call for all clauses that need it.

    ``fallback`` maps clauses to P(positive); default: the shipped sentiment model.
    """
    return tag_normalised([normalise(text or "") for text in texts], touchpoints, fallback)


def tag_normalised(
    normalised: Sequence[str],
    touchpoints: Sequence[Touchpoint] | None = None,
    fallback: Fallback | None = None,
) -> list[dict[str, str]]:
    """:func:`tag_many` for texts already through :func:`cxlake.text.normalise.normalise`, so a
    pipeline that has normalised them for the sentiment model does not do it twice."""
    lexicon = aspect_lexicon(tuple(touchpoints if touchpoints is not None else load_touchpoints()))
    found = [_mentions_of_normalised(text, lexicon) for text in normalised]
    # each distinct clause scored once: short clauses (味道还行, 送餐) repeat across reviews
    undecided = list(dict.fromkeys(m.clause for ms in found for m in ms if m.score is None))
    scored = (fallback or _default_fallback)(undecided) if undecided else ()
    probability_of = dict(zip(undecided, scored, strict=True))
    tagged: list[dict[str, str]] = []
    for ms in found:
        labels: dict[str, list[str]] = {}
        for m in ms:
            if m.score is None:
                label = _label_probability(float(probability_of[m.clause]))
            else:
                label = _label(m.score)
            for tp in m.touchpoints:
                labels.setdefault(tp, []).append(label)
        tagged.append({tp: _combine(labels[tp]) for tp in lexicon.order if tp in labels})
    return tagged


def tag_aspects(
    text: str, touchpoints: Sequence[Touchpoint] | None = None, fallback: Fallback | None = None
) -> dict[str, str]:
    """Touchpoint id -> positive / negative / neutral for each touchpoint ``text`` names, in map order."""
    return tag_many([text], touchpoints, fallback)[0]


def format_aspects(tags: dict[str, str]) -> str:
    """``taste:positive;speed:negative`` (the order of ``tags``, which is the map's)."""
    return ";".join(f"{tp}:{label}" for tp, label in tags.items())


def parse_aspects(value: str) -> dict[str, str]:
    """The inverse of :func:`format_aspects`; empty string -> {}."""
    pairs = (item.split(":", 1) for item in value.split(";") if item.strip())
    return {tp.strip(): label.strip() for tp, label in pairs}
