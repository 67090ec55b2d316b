"""One day of POS transactions and lines, vectorised with numpy.

Members buy at their home store, picked by propensity; guests fill the rest. Waits are
log-normal per channel, longer at lunch and much longer at the planted slow store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlake.generator.chain import PRODUCTS, Chain
from cxlake.generator.customers import Customers
from cxlake.generator.planted import Planted

CHANNEL_SHARE = (0.55, 0.30, 0.15)  # in CHANNELS order
MEMBER_SHARE = np.array([0.45, 0.95, 0.75])  # by channel: overall about 65%
MEDIAN_WAIT_SECONDS = np.array([240.0, 300.0, 420.0])
OPEN_SECOND, CLOSE_SECOND = 7 * 3600, 22 * 3600
_PRICES = np.array([p[3] for p in PRODUCTS])
_CATEGORY = np.array([p[2] for p in PRODUCTS])
_POPULARITY = np.array([p[4] for p in PRODUCTS]) / sum(p[4] for p in PRODUCTS)


@dataclass
class DayPos:
    number: np.ndarray  # transaction number (T + 8 digits)
    store: np.ndarray
    staff: np.ndarray
    customer: np.ndarray  # -1 for guests
    channel: np.ndarray
    ordered: np.ndarray  # seconds since local midnight
    ready: np.ndarray
    amount: np.ndarray  # fen
    refund: np.ndarray
    remake: np.ndarray
    category_mask: np.ndarray  # bit k set: the order had an item of CATEGORIES[k]
    first_product: np.ndarray
    line_tx: np.ndarray  # index into the day's transactions
    line_number: np.ndarray
    line_product: np.ndarray
    line_quantity: np.ndarray

    def __len__(self) -> int:
        return len(self.number)

    @property
    def wait(self) -> np.ndarray:
        return self.ready - self.ordered


def simulate_pos_day(
    rng: np.random.Generator,
    chain: Chain,
    customers: Customers,
    planted: Planted,
    day_index: int,
    weekday: int,
    per_store_day: float,
    first_number: int,
) -> DayPos:
    weekend = 1.12 if weekday >= 5 else 1.0
    counts = rng.poisson(per_store_day * weekend * chain.store_volume)
    store = np.repeat(np.arange(chain.n_stores), counts)
    n = len(store)
    channel = rng.choice(3, size=n, p=CHANNEL_SHARE)
    ordered = _order_seconds(rng, n)
    customer = _pick_members(rng, customers, store, rng.random(n) < MEMBER_SHARE[channel], day_index)
    staff_start = chain.store_staff_start
    staff = staff_start[store] + (rng.random(n) * (staff_start[store + 1] - staff_start[store])).astype(int)
    lunch = (ordered > 11.5 * 3600) & (ordered < 13.5 * 3600)
    wait = MEDIAN_WAIT_SECONDS[channel] * rng.lognormal(0.0, 0.45, n) * np.where(lunch, 1.25, 1.0)
    wait = np.where(store == chain.slow_store, wait * planted.slow_store_wait_multiplier, wait)
    wait = np.clip(wait, 60, 5400).astype(np.int64)
    order = np.lexsort((staff, store, ordered))
    store, channel, ordered, customer, staff, wait = (
        a[order] for a in (store, channel, ordered, customer, staff, wait)
    )
    n_lines = np.minimum(1 + rng.poisson(0.6, n), 4)
    line_tx = np.repeat(np.arange(n), n_lines)
    line_start = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    line_number = np.arange(len(line_tx)) - line_start[line_tx] + 1
    product = rng.choice(len(PRODUCTS), size=len(line_tx), p=_POPULARITY)
    quantity = np.where(rng.random(len(line_tx)) < 0.85, 1, 2)
    amount = np.bincount(line_tx, weights=_PRICES[product] * quantity, minlength=n).astype(np.int64)
    mask = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(mask, line_tx, 1 << _CATEGORY[product])
    refund_draw = rng.random(n)
    refund = np.where(refund_draw < 0.008, amount, np.where(refund_draw < 0.015, amount // 2, 0))
    return DayPos(
        number=first_number + np.arange(n),
        store=store,
        staff=staff,
        customer=customer,
        channel=channel,
        ordered=ordered,
        ready=ordered + wait,
        amount=amount,
        refund=refund,
        remake=(rng.random(n) < 0.012).astype(np.int64),
        category_mask=mask,
        first_product=product[line_start],
        line_tx=line_tx,
        line_number=line_number,
        line_product=product,
        line_quantity=quantity,
    )


def _order_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Morning and lunch peaks plus an afternoon spread, inside opening hours."""
    peak = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
    centre = np.array([8.6, 12.5, 16.0])[peak] * 3600
    spread = np.array([1.0, 0.9, 2.2])[peak] * 3600
    seconds = rng.normal(centre, spread)
    outside = (seconds < OPEN_SECOND) | (seconds >= CLOSE_SECOND)
    seconds[outside] = rng.uniform(OPEN_SECOND, CLOSE_SECOND, int(outside.sum()))
    return seconds.astype(np.int64)


def _pick_members(
    rng: np.random.Generator, customers: Customers, store: np.ndarray, is_member: np.ndarray, day_index: int
) -> np.ndarray:
    """Members of the store, drawn by propensity among those signed up; -1 where a guest buys."""
    weights = customers.propensity * (customers.signup_day <= day_index)
    order = customers.by_store
    cumulative = np.cumsum(weights[order])
    below = np.concatenate([[0.0], cumulative])[customers.store_bounds]
    before, total = below[store], below[store + 1] - below[store]
    picked = np.full(len(store), -1, dtype=np.int64)
    members = np.flatnonzero(is_member & (total > 0))
    targets = before[members] + rng.random(len(members)) * total[members]
    positions = np.minimum(np.searchsorted(cumulative, targets, side="right"), len(cumulative) - 1)
    picked[members] = order[positions]
    return picked
