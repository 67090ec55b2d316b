"""The fictional chain 栖云咖啡: regions > stores > staff, its menu, and two named competitors.

Everything here is fixed for a run (drawn once from the chain stream), so the roster written to
``reference/`` and the stores that transactions, surveys and reviews point at always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.generator.names import draw_name_codes, name_from_codes

BRAND = "栖云咖啡"
# The chain keeps Beijing time: every generated timestamp carries +08:00, and "today" is its day.
TIMEZONE = BUSINESS_TIMEZONE  # the demo chain keeps the business clock

# region id, name, share of stores, cities as (city, province, places used in store names)
REGIONS: tuple[tuple[str, str, float, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    (
        "R01",
        "华东",
        0.30,
        (
            ("上海", "上海", ("静安寺", "陆家嘴", "徐家汇", "五角场", "中山公园", "虹桥天地", "新天地")),
            ("杭州", "浙江", ("西湖银泰", "滨江星光", "武林广场", "西溪")),
            ("南京", "江苏", ("新街口", "河西万达", "夫子庙")),
            ("苏州", "江苏", ("观前街", "金鸡湖", "园区久光")),
        ),
    ),
    (
        "R02",
        "华南",
        0.22,
        (
            ("广州", "广东", ("天河城", "珠江新城", "北京路", "琶洲")),
            ("深圳", "广东", ("福田CBD", "南山科技园", "海岸城", "华强北")),
            ("厦门", "福建", ("中山路", "软件园", "万象城")),
        ),
    ),
    (
        "R03",
        "华北",
        0.20,
        (
            ("北京", "北京", ("国贸", "三里屯", "中关村", "望京SOHO", "西单")),
            ("天津", "天津", ("滨江道", "大悦城", "五大道")),
            ("青岛", "山东", ("万象城", "台东", "五四广场")),
        ),
    ),
    (
        "R04",
        "西南",
        0.14,
        (
            ("成都", "四川", ("春熙路", "太古里", "高新区", "宽窄巷子")),
            ("重庆", "重庆", ("解放碑", "观音桥", "江北嘴")),
            ("昆明", "云南", ("南屏街", "翠湖")),
        ),
    ),
    (
        "R05",
        "华中",
        0.14,
        (
            ("武汉", "湖北", ("江汉路", "光谷", "楚河汉街", "武广")),
            ("长沙", "湖南", ("五一广场", "梅溪湖", "IFS")),
            ("郑州", "河南", ("二七广场", "郑东新区")),
        ),
    ),
)

CATEGORIES = ("咖啡", "茶饮", "轻食", "甜品")

# product id, name, category index, price in fen, popularity weight
PRODUCTS: tuple[tuple[str, str, int, int, float], ...] = (
    ("P001", "美式咖啡", 0, 2200, 9.0),
    ("P002", "拿铁", 0, 2800, 12.0),
    ("P003", "燕麦拿铁", 0, 3200, 6.0),
    ("P004", "生椰拿铁", 0, 3000, 8.0),
    ("P005", "澳白", 0, 3000, 4.0),
    ("P006", "冷萃咖啡", 0, 2800, 4.0),
    ("P007", "桂花乌龙", 1, 2400, 5.0),
    ("P008", "茉莉奶绿", 1, 2200, 5.0),
    ("P009", "柠檬红茶", 1, 1800, 4.0),
    ("P010", "白桃乌龙", 1, 2600, 4.0),
    ("P011", "鸡肉三明治", 2, 2600, 3.0),
    ("P012", "牛角包", 2, 1600, 4.0),
    ("P013", "贝果", 2, 1800, 2.0),
    ("P014", "提拉米苏", 3, 2800, 2.0),
    ("P015", "巴斯克蛋糕", 3, 3200, 2.0),
    ("P016", "曲奇", 3, 1200, 2.0),
)

# competitor brand, shop-id code, typical items named in reviews
COMPETITORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("山野茶铺", "SY", ("招牌奶茶", "山野乌龙", "杨枝甘露", "柠檬茶")),
    ("港湾咖啡", "GW", ("拿铁", "美式", "海盐拿铁", "脏脏包")),
)


@dataclass(frozen=True)
class Scale:
    stores: int
    customers: int
    transactions_per_store_day: float


SCALES = {
    "small": Scale(stores=30, customers=20_000, transactions_per_store_day=60.0),
    "medium": Scale(stores=120, customers=200_000, transactions_per_store_day=93.0),
    "large": Scale(stores=600, customers=2_000_000, transactions_per_store_day=370.0),
}


@dataclass(frozen=True)
class Shop:
    """A reviewed shop: one of ours (store_index set) or a competitor's."""

    shop_code: str
    brand: str
    name: str
    city: str
    store_index: int | None


@dataclass
class Chain:
    store_ids: list[str]
    store_names: list[str]
    store_region: np.ndarray  # index into REGIONS
    store_city: list[str]
    store_province: list[str]
    store_opened: list[date]
    store_volume: np.ndarray  # relative transaction volume
    store_quality: np.ndarray  # latent satisfaction offset
    staff_ids: list[str]
    staff_names: list[str]
    staff_store: np.ndarray
    staff_roles: list[str]
    staff_hired: list[date]
    store_staff_start: np.ndarray  # staff of store s are staff_start[s]:staff_start[s+1]
    slow_store: int
    gaming_store: int
    gaming_staff: np.ndarray  # staff indices that solicit 10s
    competitor_shops: list[Shop]

    @property
    def n_stores(self) -> int:
        return len(self.store_ids)


def _random_day(rng: np.random.Generator, first: date, last: date) -> date:
    return first + timedelta(days=int(rng.integers(0, max(1, (last - first).days))))


def build_chain(rng: np.random.Generator, scale: Scale, start: date) -> Chain:
    """Stores spread over the five regions, five to seven staff each, a slow and a gaming store."""
    shares = np.array([r[2] for r in REGIONS])
    per_region = np.floor(shares * scale.stores).astype(int)
    per_region[: scale.stores - per_region.sum()] += 1
    store_ids, names, regions, cities, provinces, opened = [], [], [], [], [], []
    for region_index, (_, _, _, region_cities) in enumerate(REGIONS):
        for k in range(per_region[region_index]):
            city, province, places = region_cities[k % len(region_cities)]
            round_no, place = divmod(k // len(region_cities), len(places))
            suffix = "" if round_no == 0 else str(round_no + 1)
            store_ids.append(f"S{len(store_ids) + 1:03d}")
            names.append(f"{BRAND}({city}{places[place]}{suffix}店)")
            regions.append(region_index)
            cities.append(city)
            provinces.append(province)
            opened.append(_random_day(rng, date(2019, 3, 1), start - timedelta(days=120)))
    n = len(store_ids)
    volume = rng.lognormal(0.0, 0.25, n)
    quality = rng.normal(0.0, 0.2, n)
    staff_counts = rng.integers(5, 8, n)
    staff_start = np.concatenate([[0], np.cumsum(staff_counts)])
    staff_store = np.repeat(np.arange(n), staff_counts)
    name_codes = draw_name_codes(rng, len(staff_store))
    roles = [
        "店长" if i == staff_start[s] else "值班经理" if i == staff_start[s] + 1 else "咖啡师"
        for i, s in enumerate(staff_store)
    ]
    hired = [_random_day(rng, opened[s], start - timedelta(days=7)) for s in staff_store]
    slow, gaming = (int(i) for i in rng.choice(n, size=2, replace=False))
    gaming_baristas = np.arange(staff_start[gaming] + 2, staff_start[gaming + 1])
    return Chain(
        store_ids=store_ids,
        store_names=names,
        store_region=np.array(regions),
        store_city=cities,
        store_province=provinces,
        store_opened=opened,
        store_volume=volume,
        store_quality=quality,
        staff_ids=[f"ST{i + 1:04d}" for i in range(len(staff_store))],
        staff_names=[name_from_codes(c) for c in name_codes],
        staff_store=staff_store,
        staff_roles=roles,
        staff_hired=hired,
        store_staff_start=staff_start,
        slow_store=slow,
        gaming_store=gaming,
        gaming_staff=rng.choice(gaming_baristas, size=2, replace=False),
        competitor_shops=_competitor_shops(rng, cities),
    )


def _competitor_shops(rng: np.random.Generator, our_cities: list[str]) -> list[Shop]:
    """Each competitor opens about one shop per six of ours, in cities where we are."""
    shops: list[Shop] = []
    per_brand = max(3, len(our_cities) // 6)
    places = {city: places for *_, cs in REGIONS for city, _, places in cs}
    for brand, code, _ in COMPETITORS:
        chosen = rng.choice(len(our_cities), size=per_brand, replace=per_brand > len(our_cities))
        for k, idx in enumerate(sorted(int(i) for i in chosen)):
            city = our_cities[idx]
            place = places[city][int(rng.integers(0, len(places[city])))]
            name = f"{brand}({city}{place}店)"
            if any(shop.name == name for shop in shops):
                name = f"{brand}({city}{place}{k + 1}店)"
            shops.append(Shop(f"{code}{k + 1:03d}", brand, name, city, None))
    return shops
