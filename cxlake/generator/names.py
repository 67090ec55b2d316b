"""Chinese personal names and nicknames, drawn from index arrays so millions of people cost no strings."""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鹏辉浩宇欣怡涵梓轩思雨佳琪雅晨睿博文俊嘉"
)

NICK_PREFIXES = (
    "爱喝咖啡的",
    "吃货",
    "不加糖的",
    "快乐的",
    "早起的",
    "路过的",
    "周末",
    "打工人",
    "喵星人",
    "小",
)
NICK_SUFFIXES = (
    "小王",
    "阿杰",
    "momo",
    "Lily",
    "小鱼",
    "糖糖",
    "大橙子",
    "Kevin",
    "土豆",
    "一只猫",
    "小林",
    "阿May",
)


def draw_name_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3) indices: surname, first given char, second given char or -1 (one-char given name)."""
    codes = np.empty((n, 3), dtype=np.int16)
    codes[:, 0] = rng.integers(0, len(SURNAMES), n)
    codes[:, 1] = rng.integers(0, len(GIVEN), n)
    codes[:, 2] = np.where(rng.random(n) < 0.7, rng.integers(0, len(GIVEN), n), -1)
    return codes


def name_from_codes(codes: np.ndarray) -> str:
    surname, first, second = (int(c) for c in codes)
    return SURNAMES[surname] + GIVEN[first] + (GIVEN[second] if second >= 0 else "")


def nickname(rnd) -> str:
    """A review-site nickname; `rnd` is a random.Random so review text stays one stream."""
    if rnd.random() < 0.25:
        return f"用户{rnd.randrange(1000, 99999)}"
    return rnd.choice(NICK_PREFIXES) + rnd.choice(NICK_SUFFIXES)
