"""Review-site posts for our stores and the two competitors' shops, one JSON page per platform and day.

Aspects are drawn from each brand's review profile (:attr:`Planted.review_positive`: 山野茶铺 wins
on value, the slow store loses on speed); the star rating follows the text's sentiment plus noise.
Meituan reviews of our stores are tied to one of that day's delivery orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cxlake.generator.chain import BRAND, COMPETITORS, PRODUCTS, Chain, Shop
from cxlake.generator.comments import NEGATIVE, POSITIVE, compose, overall_sentiment
from cxlake.generator.names import nickname
from cxlake.generator.planted import Planted
from cxlake.generator.pos import DayPos

PLATFORMS = ("dianping", "meituan", "xiaohongshu")
_ASPECTS = {
    "dianping": ("taste", "speed", "staff", "environment", "value"),
    "meituan": ("taste", "delivery", "value"),
    "xiaohongshu": ("taste", "speed", "staff", "environment", "value"),
}
_RATE_OURS = {"dianping": 0.12, "meituan": 0.08, "xiaohongshu": 0.04}
_RATE_COMPETITOR = {"dianping": 0.4, "meituan": 0.3, "xiaohongshu": 0.12}
_SHOP_PREFIX = {"dianping": "G", "meituan": "MT", "xiaohongshu": "poi_"}
_ID_BASE = {"dianping": 1_024_000_000, "meituan": 5_830_000_000}
_DRINKS = tuple(p[1] for p in PRODUCTS if p[2] < 2)


@dataclass
class ReviewDay:
    pages: dict[str, list[dict]]
    truth: list[dict]


class ReviewFactory:
    """Keeps per-platform counters so review ids stay unique and increasing across days."""

    def __init__(self, chain: Chain, planted: Planted) -> None:
        self.chain = chain
        self.planted = planted
        self.counter = dict.fromkeys(PLATFORMS, 0)
        ours = [
            Shop(sid, BRAND, name, city, i)
            for i, (sid, name, city) in enumerate(
                zip(chain.store_ids, chain.store_names, chain.store_city, strict=True)
            )
        ]
        self.shops = ours + chain.competitor_shops

    def simulate(self, rng: np.random.Generator, rnd: random.Random, pos: DayPos, day: date) -> ReviewDay:
        pages: dict[str, list[dict]] = {}
        truth: list[dict] = []
        delivery = np.flatnonzero(pos.channel == 2)
        for platform in PLATFORMS:
            posts = []
            rates = np.array(
                [(_RATE_OURS if s.brand == BRAND else _RATE_COMPETITOR)[platform] for s in self.shops]
            )
            for shop_index in np.repeat(np.arange(len(self.shops)), rng.poisson(rates)):
                shop = self.shops[int(shop_index)]
                order = None
                if platform == "meituan" and shop.store_index is not None:
                    candidates = delivery[pos.store[delivery] == shop.store_index]
                    if len(candidates) == 0:
                        continue
                    order = int(candidates[rng.integers(0, len(candidates))])
                posts.append(self._post(rnd, platform, shop, pos, order, day))
            posts.sort(key=lambda post: (post[0]["posted_at"], post[0]["shop_id"]))
            for post, aspects in posts:
                self.counter[platform] += 1
                post["review_id"] = self._review_id(rnd, platform, post["posted_at"])
                truth.append(
                    {
                        "review_key": f"{platform}:{post['review_id']}",
                        "brand": post["brand"],
                        "aspects": aspects,
                        "sentiment": overall_sentiment(aspects),
                    }
                )
            pages[platform] = [post for post, _ in posts]
        return ReviewDay(pages=pages, truth=truth)

    def _post(self, rnd: random.Random, platform: str, shop: Shop, pos: DayPos, order: int | None, day: date):
        profile = dict(self.planted.review_positive[shop.brand])
        if shop.store_index == self.chain.slow_store:
            profile["speed"] = self.planted.slow_store_review_speed_positive
        wanted = rnd.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]
        chosen = rnd.sample(_ASPECTS[platform], wanted)
        aspects = {
            tp: POSITIVE if rnd.random() < profile[tp] else NEGATIVE
            for tp in _ASPECTS[platform]
            if tp in chosen
        }
        if shop.brand == BRAND:
            item = PRODUCTS[int(pos.first_product[order])][1] if order is not None else rnd.choice(_DRINKS)
        else:
            item = rnd.choice(next(items for brand, _, items in COMPETITORS if brand == shop.brand))
        content = compose(
            rnd,
            aspects,
            item,
            food=order is not None and PRODUCTS[int(pos.first_product[order])][2] >= 2,
            review=True,
        )
        if platform == "xiaohongshu":
            tags = f"#{shop.brand} #探店 #{shop.city}美食"
            content = f"{rnd.choice(('姐妹们！', '', '打卡｜'))}{shop.brand}{content} {tags}"
        score = sum(1 if p == POSITIVE else -1 for p in aspects.values()) / len(aspects)
        rating = int(np.clip(round(3.3 + 1.5 * score + rnd.gauss(0, 0.7)), 1, 5))
        if order is not None:
            second = min(int(pos.ready[order]) + rnd.randint(1800, 3 * 3600), 86_399)
        else:
            second = rnd.randint(8 * 3600, 86_399)
        posted = f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+08:00"
        brand_no = 0 if shop.brand == BRAND else 1 + [c[0] for c in COMPETITORS].index(shop.brand)
        shop_number = shop.store_index if shop.store_index is not None else int(shop.shop_code[2:])
        return {
            "review_id": "",
            "shop_id": f"{_SHOP_PREFIX[platform]}{brand_no}{shop_number:05d}",
            "shop_name": shop.name,
            "brand": shop.brand,
            "store_id": None if shop.store_index is None else self.chain.store_ids[shop.store_index],
            "rating": rating,
            "posted_at": posted,
            "content": content,
            "order_id": None if order is None else f"T{int(pos.number[order]):08d}",
            "user_nickname": nickname(rnd),
        }, aspects

    def _review_id(self, rnd: random.Random, platform: str, posted_at: str) -> str:
        n = self.counter[platform]
        if platform == "xiaohongshu":
            epoch = (
                int(date.fromisoformat(posted_at[:10]).toordinal() - date(1970, 1, 1).toordinal()) * 86_400
            )
            return f"{epoch:08x}{rnd.getrandbits(40):010x}{n:06x}"
        return str(_ID_BASE[platform] + n * 97 + rnd.randint(0, 96))


def page(platform: str, day: date, reviews: list[dict]) -> dict:
    """The platform API's page: fetched at 03:00 the next morning (fixed, never the wall clock)."""
    return {
        "platform": platform,
        "fetched_at": f"{(day + timedelta(days=1)).isoformat()}T03:00:00+08:00",
        "reviews": reviews,
    }
