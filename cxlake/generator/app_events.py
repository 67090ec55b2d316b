"""The ordering app's event stream: JSON lines per hour of receipt, as the app's collector writes them.

Every POS ``app`` order gets exactly one ordering session that ends in ``order_placed`` at the
order's ``ordered_at`` (its items are the order's lines); members and guests also browse, abandon
carts and give up at checkout or payment, so a day holds about ten events per POS transaction.

A session is a row of a fixed slot table (:data:`SLOTS`): home, an optional search, the menu,
up to four items (a view, an add and a second add for a quantity of two), an optional extra item
added and removed again on the cart page, cart, checkout, payment, the planted error, the order
and the order-status page. How far a session gets (its stage) and its flags switch slots on, so a
whole day is built with numpy and no per-event Python.

Defects the pipeline must handle: about 1% of events are delivered twice (same event id and fields,
received 1-120 s later), about 2% of sessions' tails arrive 1-36 h late (a phone offline), and
every device's clock is off by a constant skew (a few seconds; minutes to hours for about 8%).

The planted app error (parameters in :class:`~cxlake.generator.planted.Planted`): from the start day
on, a share of the sessions reaching the payment page get an ``app_error`` there; most of those give
up (extra abandoned sessions), the rest retry and order. :meth:`AppEvents.simulate` returns which
of the day's POS transactions hit the error, so their app CSAT is lowered in the survey responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cxlake.contracts import CHANNELS
from cxlake.generator.chain import PRODUCTS, Chain
from cxlake.generator.customers import Customers
from cxlake.generator.planted import Planted
from cxlake.generator.pos import DayPos
from cxlake.landing import APP_EVENT_FIELDS

APP_CHANNEL = CHANNELS.index("app")  # pos.channel holds indices into the contract's channels
APP_VERSIONS = ("5.3.0", "5.2.1", "5.1.4")
_VERSION_SHARE = np.cumsum([0.55, 0.35, 0.10])

# (event_type, page) per slot, in the order a session walks through them
SLOTS: tuple[tuple[str, str], ...] = (
    ("page_view", "home"),
    ("page_view", "search"),
    ("search", "search"),
    ("page_view", "menu"),
    *(
        pair
        for _ in range(4)
        for pair in (("page_view", "item"), ("add_to_cart", "item"), ("add_to_cart", "item"))
    ),
    ("page_view", "item"),  # the extra item, added and then removed on the cart page
    ("add_to_cart", "item"),
    ("page_view", "cart"),
    ("remove_from_cart", "cart"),
    ("page_view", "checkout"),
    ("checkout_start", "checkout"),
    ("page_view", "payment"),
    ("app_error", "payment"),
    ("order_placed", "payment"),
    ("page_view", "order_status"),
)
_HOME, _SEARCH_PV, _SEARCH, _MENU, _ITEM = 0, 1, 2, 3, 4  # item k: view 4+3k, add 5+3k, second add 6+3k
_EXTRA_PV, _EXTRA_ADD, _CART, _REMOVE, _CHECKOUT, _CHECKOUT_START = 16, 17, 18, 19, 20, 21
_PAYMENT, _ERROR, _ORDER, _STATUS = 22, 23, 24, 25
_IS_PV = np.array([t == "page_view" for t, _ in SLOTS])
_EVENT_TYPES = np.array([t for t, _ in SLOTS], dtype=object)
_PAGES = np.array([p for _, p in SLOTS], dtype=object)
# stages: how far a session gets
BROWSE, CART, CHECKOUT, PAYMENT, ORDERED = 0, 1, 2, 3, 4
_NON_ORDER_STAGES = (BROWSE, CART, CHECKOUT)
_NON_ORDER_STAGE_SHARE = (0.6, 0.28, 0.12)
NON_ORDER_SESSIONS_PER_TRANSACTION = 0.9  # browse / cart / checkout abandons per POS transaction
MEMBER_SHARE_NON_ORDER = 0.8
SIGNED_IN_FROM_START = 0.75
SECOND_DEVICE_SHARE, SECOND_DEVICE_USE = 0.10, 0.3
RELAUNCH_SHARE, LATE_SESSION_SHARE, DUPLICATE_SHARE = 0.05, 0.02, 0.01
SKEWED_DEVICE_SHARE = 0.08
SESSION_GAP_MS = 31 * 60_000  # sessions of one device stay more than 30 min apart
_DAY_MS, _HOUR_MS = 86_400_000, 3_600_000
_PRICES = np.array([p[3] for p in PRODUCTS], dtype=np.int64)  # fen
_POPULARITY = np.array([p[4] for p in PRODUCTS]) / sum(p[4] for p in PRODUCTS)
_PRODUCT_IDS = np.array([p[0] for p in PRODUCTS] + [None], dtype=object)  # index -1: no item
_MASK48 = np.uint64((1 << 48) - 1)


@dataclass
class AppDay:
    """What the rest of the day needs from the app: which transactions hit the planted error."""

    errored: np.ndarray  # bool per POS transaction of the day
    files: list[tuple[str, int]]  # (file name, events) written into the day's folder


@dataclass
class AppTruth:
    events: int = 0
    duplicates: int = 0
    late_events: int = 0
    not_delivered: int = 0  # received after the last generated day
    sessions: int = 0
    ordering_sessions: int = 0
    errored_ordering_sessions: int = 0
    errored_abandoned_sessions: int = 0
    payment_sessions: dict[str, int] = field(default_factory=lambda: {"before": 0, "after": 0})
    payment_orders: dict[str, int] = field(default_factory=lambda: {"before": 0, "after": 0})


def _mix(x: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of ``x + salt``: a per-device uniform 64-bit value, the same on every day."""
    z = x.astype(np.uint64) + np.uint64(salt * 0x9E3779B97F4A7C15 % (1 << 64))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _uniform(x: np.ndarray, salt: int) -> np.ndarray:
    return (_mix(x, salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def device_ids(keys: np.ndarray, seed: int) -> list[str]:
    """``d`` + 12 hex: a bijection of the 48-bit device key (xor-shifts and odd multipliers), so two
    devices never share an id."""
    z = (keys.astype(np.uint64) + np.uint64(seed % (1 << 20)) * np.uint64(0x1000_0000)) & _MASK48
    for shift, odd in ((23, 0x5DEECE66D), (19, 0xB5AD4ECEDA1B), (25, 0x2545F4914F6D)):
        z = ((z ^ (z >> np.uint64(shift))) * np.uint64(odd)) & _MASK48
    return [f"d{v:012x}" for v in z.tolist()]


def _clock(ms: np.ndarray, start: date) -> np.ndarray:
    """ISO 8601 local time with milliseconds and +08:00 for ms since the first day's local midnight."""
    stamps = np.datetime64(start, "ms") + ms.astype("timedelta64[ms]")
    return np.char.add(np.datetime_as_string(stamps, unit="ms"), "+08:00").astype(object)


def _segment_rank(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2... within runs of equal values of a sorted array."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.flatnonzero(first)
    return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))


def _too_close(device: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Sessions starting within SESSION_GAP_MS of the end of an earlier session of their device."""
    order = np.lexsort((start, device))
    d, s, e = device[order], start[order], end[order]
    first = np.r_[True, d[1:] != d[:-1]] if len(d) else np.zeros(0, dtype=bool)
    group = np.cumsum(first)
    # running max of the earlier sessions' ends within the device (groups are increasing, so
    # offsetting by group keeps the maximum inside each run)
    offset = group.astype(np.int64) * (1 << 40)
    running = np.maximum.accumulate(e + offset) - offset
    previous = np.r_[np.iinfo(np.int64).min, running[:-1]] if len(d) else running
    close = ~first & (s - previous < SESSION_GAP_MS)
    out = np.zeros(len(device), dtype=bool)
    out[order] = close
    return out


class AppEvents:
    """Builds each day's sessions and writes the hour files; late and duplicate events received on a
    later day are carried until that day's folder is written."""

    def __init__(
        self,
        seed: int,
        chain: Chain,
        customers: Customers,
        planted: Planted,
        start: date,
        days: int,
        out_dir: Path,
    ) -> None:
        if planted.app_error_page != "payment":
            raise ValueError(
                f"app_error_page {planted.app_error_page!r}: the generator plants it on 'payment' only"
            )
        self.seed, self.chain, self.customers, self.planted = seed, chain, customers, planted
        self.start, self.days, self.out_dir = start, days, out_dir
        self.error_from = start + timedelta(days=int(days * planted.app_error_start_share))
        n = len(customers)
        self.guest_pool = max(2_000, n // 4)
        self.first_borrowed = 2 * n + self.guest_pool  # devices lent for a second order within 30 min
        self.next_borrowed = self.first_borrowed
        self.launches = np.zeros(self.first_borrowed, dtype=np.int64)
        self.store_ids = np.array(chain.store_ids, dtype=object)
        self.carry = pd.DataFrame()
        self.truth = AppTruth()

    def simulate(self, rng: np.random.Generator, pos: DayPos, day_index: int) -> AppDay:
        """Build day ``day_index``'s sessions, write the files of everything received that day and
        return which POS transactions hit the planted error."""
        p = self.planted
        day = self.start + timedelta(days=day_index)
        active = day >= self.error_from
        rate, give_up, base = (
            (p.app_error_rate if active else 0.0),
            p.app_error_abandon_share,
            p.app_payment_abandon_share,
        )
        reach_to_order = 1 - rate * give_up - (1 - rate) * base  # share of payment-page sessions that order
        app_tx = np.flatnonzero(pos.channel == APP_CHANNEL)
        n_orders = len(app_tx)
        errored_order = rng.random(n_orders) < rate * (1 - give_up) / reach_to_order
        n_pay_abandon = rng.poisson(n_orders * (1 - rate) * base / reach_to_order)
        n_err_abandon = rng.poisson(n_orders * rate * give_up / reach_to_order)
        n_other = rng.poisson(len(pos) * NON_ORDER_SESSIONS_PER_TRANSACTION)
        stage = np.concatenate(
            [
                np.full(n_orders, ORDERED),
                np.full(n_pay_abandon + n_err_abandon, PAYMENT),
                rng.choice(_NON_ORDER_STAGES, size=n_other, p=_NON_ORDER_STAGE_SHARE),
            ]
        )
        errored = np.concatenate(
            [
                errored_order,
                np.zeros(n_pay_abandon, dtype=bool),
                np.ones(n_err_abandon, dtype=bool),
                np.zeros(n_other, dtype=bool),
            ]
        )
        sessions = self._sessions(rng, pos, app_tx, stage, errored, day_index)
        events = self._events(rng, sessions, pos, day_index, "after" if active else "before")
        files = self._write(events, day_index)
        out = np.zeros(len(pos), dtype=bool)
        out[app_tx[errored_order]] = True
        return AppDay(errored=out, files=files)

    def _sessions(
        self,
        rng: np.random.Generator,
        pos: DayPos,
        app_tx: np.ndarray,
        stage: np.ndarray,
        errored: np.ndarray,
        day_index: int,
    ) -> dict[str, np.ndarray]:
        """One row per session: who, which device and store, what is in the cart, which slots."""
        c, n_orders, s = self.customers, len(app_tx), len(stage)
        n_non = s - n_orders
        # who: the POS order's customer, else a member by propensity (or a guest)
        weights = c.propensity * (c.signup_day <= day_index)
        cumulative = np.cumsum(weights)
        picked = np.minimum(
            np.searchsorted(cumulative, rng.random(n_non) * cumulative[-1], side="right"), len(c) - 1
        )
        is_member = rng.random(n_non) < MEMBER_SHARE_NON_ORDER
        member = np.concatenate([pos.customer[app_tx], np.where(is_member, picked, -1)])
        store = np.concatenate(
            [
                pos.store[app_tx],
                np.where(is_member, c.home_store[picked], rng.integers(0, self.chain.n_stores, n_non)),
            ]
        )
        # devices: a member's own (or second), a guest's from the pool
        key = np.where(member >= 0, member, 0)
        second = (_uniform(key, self.seed * 101 + 11) < SECOND_DEVICE_SHARE) & (
            rng.random(s) < SECOND_DEVICE_USE
        )
        device = np.where(
            member >= 0,
            member + second * len(c),
            2 * len(c) + rng.integers(0, self.guest_pool, s),
        ).astype(np.int64)
        # cart: the order's lines for orders; popular products for the others
        products = np.full((s, 4), -1, dtype=np.int64)
        double = np.zeros((s, 4), dtype=bool)
        row = np.full(len(pos), -1, dtype=np.int64)
        row[app_tx] = np.arange(n_orders)
        lines = np.flatnonzero(row[pos.line_tx] >= 0)
        r, k = row[pos.line_tx[lines]], pos.line_number[lines] - 1
        products[r, k] = pos.line_product[lines]
        double[r, k] = pos.line_quantity[lines] == 2
        n_items = np.concatenate(
            [np.bincount(r, minlength=n_orders), np.minimum(1 + rng.poisson(0.7, n_non), 4)]
        )
        n_items[n_orders:] = np.where(
            stage[n_orders:] == BROWSE, rng.integers(0, 5, n_non), n_items[n_orders:]
        )
        drawn = rng.choice(len(PRODUCTS), size=(n_non, 4), p=_POPULARITY)
        products[n_orders:] = np.where(np.arange(4) < n_items[n_orders:, None], drawn, -1)
        double[n_orders:] = rng.random((n_non, 4)) < 0.08
        extra_product = rng.choice(len(PRODUCTS), size=s, p=_POPULARITY)
        search = rng.random(s) < 0.3
        remove = (rng.random(s) < 0.12) & (stage >= CART)
        signin = np.where(
            rng.random(s) < SIGNED_IN_FROM_START, 0, np.where(rng.random(s) < 0.5, _CART, _CHECKOUT)
        )
        mask = np.zeros((s, len(SLOTS)), dtype=bool)
        mask[:, _HOME] = mask[:, _MENU] = True
        mask[:, _SEARCH_PV] = mask[:, _SEARCH] = search
        for j in range(4):
            has = j < n_items
            mask[:, _ITEM + 3 * j] = has
            mask[:, _ITEM + 3 * j + 1] = has & (stage >= CART)
            mask[:, _ITEM + 3 * j + 2] = has & (stage >= CART) & double[:, j]
        mask[:, _EXTRA_PV] = mask[:, _EXTRA_ADD] = mask[:, _REMOVE] = remove
        mask[:, _CART] = stage >= CART
        mask[:, _CHECKOUT] = mask[:, _CHECKOUT_START] = stage >= CHECKOUT
        mask[:, _PAYMENT] = stage >= PAYMENT
        mask[:, _ERROR] = errored
        mask[:, _ORDER] = mask[:, _STATUS] = stage == ORDERED
        return {
            "stage": stage,
            "errored": errored,
            "member": member,
            "store": store,
            "device": device,
            "products": products,
            "double": double,
            "extra_product": extra_product,
            "signin": signin,
            "mask": mask,
            "tx": np.concatenate([app_tx, np.full(n_non, -1)]),
            "start_draw": _session_seconds(rng, s) * 1000,
            "relaunch": rng.random(s) < RELAUNCH_SHARE,
            "late": rng.random(s) < LATE_SESSION_SHARE,
            "late_delay": rng.integers(_HOUR_MS, 36 * _HOUR_MS, s),
            "tail_draw": rng.random(s),
            "hint_draw": rng.random(s),
        }

    def _events(
        self, rng: np.random.Generator, ss: dict[str, np.ndarray], pos: DayPos, day_index: int, period: str
    ) -> pd.DataFrame:
        """The day's events (true times, receipt times, every field), duplicates appended."""
        sess, slot = np.nonzero(ss["mask"])
        n = len(sess)
        is_pv = _IS_PV[slot]
        gap = np.where(
            is_pv,
            rng.lognormal(np.log(np.where(slot == _MENU, 14_000, 8_000)), 0.8, n),
            rng.lognormal(np.log(2_500), 0.6, n),
        )
        gap = np.where(slot == _ERROR, rng.lognormal(np.log(25_000), 0.5, n), gap)
        gap = np.clip(gap, 300, 240_000).astype(np.int64)
        first = np.r_[True, sess[1:] != sess[:-1]]
        starts = np.flatnonzero(first)
        before = np.cumsum(gap) - gap
        offset = before - before[starts][np.cumsum(first) - 1]
        # orders end at ordered_at (the order_placed event); the other sessions start at their draw
        day_ms = day_index * _DAY_MS
        anchor = ss["start_draw"].astype(np.int64)
        tx = ss["tx"]
        placed = slot == _ORDER
        ordered_ms = np.zeros(len(tx), dtype=np.int64)
        ordered_ms[sess[placed]] = pos.ordered[tx[sess[placed]]] * 1000 - offset[placed]
        anchor = np.where(tx >= 0, ordered_ms, anchor)
        true_ms = day_ms + anchor[sess] + offset
        # dwell: time to the next page view of the session, or an own draw for the last one
        pv = np.flatnonzero(is_pv)
        dwell = gap[pv].copy()
        same = sess[pv[1:]] == sess[pv[:-1]]
        dwell[:-1] = np.where(same, true_ms[pv[1:]] - true_ms[pv[:-1]], dwell[:-1])
        dwell_ms = pd.array(np.full(n, pd.NA), dtype="Int64")
        dwell_ms[pv] = dwell
        # sessions of one device stay apart: a second order within 30 min comes from a borrowed
        # device; a browse or abandon session too close to another session is not generated
        ends = np.maximum.reduceat(true_ms, starts)
        begins = true_ms[starts]
        is_order = tx >= 0
        device = ss["device"]
        clash = _too_close(device[is_order], begins[is_order], ends[is_order])
        order_rows = np.flatnonzero(is_order)[clash]
        device[order_rows] = self.next_borrowed + np.arange(len(order_rows))
        self.next_borrowed += len(order_rows)
        drop = ~is_order & (_too_close(device, begins, ends) | _too_close(device, -ends, -begins))
        self._tally(ss, ~drop, period)
        keep = ~drop[sess]
        # the app's launch counter per device (restarting mid-session for a few)
        launches = 1 + ss["relaunch"].astype(np.int64)
        order = np.lexsort((begins, device))
        rank_launch = np.zeros(len(device), dtype=np.int64)
        sorted_launch = np.where(drop[order], 0, launches[order])
        within = np.cumsum(sorted_launch) - sorted_launch
        group_start = np.r_[True, device[order][1:] != device[order][:-1]]
        within -= within[np.flatnonzero(group_start)][np.cumsum(group_start) - 1]
        rank_launch[order] = within
        tracked = device < self.first_borrowed
        base = 1 + (_mix(device, self.seed * 101 + 17) % np.uint64(400)).astype(np.int64)
        base[tracked] += self.launches[device[tracked]]
        np.add.at(self.launches, device[tracked & ~drop], launches[tracked & ~drop])
        length = np.diff(np.r_[starts, n])
        position = np.arange(n) - starts[np.cumsum(first) - 1]
        relaunch_at = 1 + (ss["hint_draw"] * np.maximum(length - 1, 1)).astype(np.int64)
        hint = base[sess] + rank_launch[sess] + (ss["relaunch"][sess] & (position >= relaunch_at[sess]))
        # receipt: 0.1-3 s after the true time; a late tail waits in the phone's queue and is flushed
        # at once 1-36 h after the session's last event, 40 ms apart (so its gaps of receipt are not its gaps)
        tail_at = (ss["tail_draw"] * length).astype(np.int64)
        late = ss["late"][sess] & (position >= tail_at[sess])
        flushed = ends[np.cumsum(first) - 1] + ss["late_delay"][sess] + (position - tail_at[sess]) * 40
        received = np.where(late, flushed, true_ms + rng.integers(100, 3_000, n))
        # the device's clock: a few seconds off, or minutes to hours for some
        u = _uniform(device, self.seed * 7 + 3)
        magnitude = np.exp(
            np.log(120_000) + _uniform(device, self.seed * 7 + 5) * np.log(21_600_000 / 120_000)
        )
        sign = np.where(_uniform(device, self.seed * 7 + 9) < 0.5, -1, 1)
        skew = np.where(u < SKEWED_DEVICE_SHARE, sign * magnitude, (u - 0.54) / 0.46 * 3_000).astype(np.int64)
        v = _uniform(device, self.seed * 101 + 23)
        version = np.array(APP_VERSIONS, dtype=object)[np.searchsorted(_VERSION_SHARE, v)]
        # fields
        products, extra = ss["products"], ss["extra_product"]
        item_col = np.clip((slot - _ITEM) // 3, 0, 3)
        item = np.where(
            (slot >= _ITEM) & (slot < _EXTRA_PV),
            products[sess, item_col],
            np.where(np.isin(slot, (_EXTRA_PV, _EXTRA_ADD, _REMOVE)), extra[sess], -1),
        )
        cart_event = np.isin(_EVENT_TYPES[slot], ("add_to_cart", "remove_from_cart"))
        amount = np.zeros(len(tx), dtype=np.int64)
        amount[tx >= 0] = pos.amount[tx[tx >= 0]]
        price_fen = np.where(cart_event, _PRICES[item], np.where(placed, amount[sess], -1))
        price = np.where(price_fen >= 0, price_fen / 100, np.nan)
        member = ss["member"]
        signed = (member[sess] >= 0) & (slot >= ss["signin"][sess])
        member_id = np.full(n, None, dtype=object)
        member_id[signed] = [self.customers.customer_id(m) for m in member[sess[signed]].tolist()]
        order_id = np.full(n, None, dtype=object)
        order_id[placed] = [f"T{t:08d}" for t in pos.number[tx[sess[placed]]].tolist()]
        device_str = np.array(device_ids(device, self.seed), dtype=object)
        events = pd.DataFrame(
            {
                "event_id": np.array(_hex_ids(rng, n), dtype=object),
                "occurred_at": _clock(true_ms + skew[sess], self.start),
                "received_at": _clock(received, self.start),
                "device_id": device_str[sess],
                "member_id": member_id,
                "session_hint": np.char.mod("%d", hint).astype(object),
                "event_type": _EVENT_TYPES[slot],
                "page": _PAGES[slot],
                "item": _PRODUCT_IDS[item],
                "price": price,
                "order_id": order_id,
                "dwell_ms": dwell_ms,
                "store_id": self.store_ids[ss["store"][sess]],
                "error_code": np.where(slot == _ERROR, self.planted.app_error_code, None).astype(object),
                "app_version": version[sess],
                "_received": received,
                "_late": late,
                "_duplicate": False,
            }
        )[keep]
        copies = events[rng.random(len(events)) < DUPLICATE_SHARE].copy()
        copies["_received"] += rng.integers(1_000, 120_000, len(copies))
        copies["received_at"] = _clock(copies["_received"].to_numpy(), self.start)
        copies["_duplicate"] = True
        return pd.concat([events, copies], ignore_index=True)

    def _tally(self, ss: dict[str, np.ndarray], kept: np.ndarray, period: str) -> None:
        """Count the generated sessions (after the ones too close to another were dropped)."""
        stage, errored, t = ss["stage"][kept], ss["errored"][kept], self.truth
        t.sessions += len(stage)
        t.payment_sessions[period] += int((stage >= PAYMENT).sum())
        t.payment_orders[period] += int((stage == ORDERED).sum())
        t.ordering_sessions += int((stage == ORDERED).sum())
        t.errored_ordering_sessions += int((errored & (stage == ORDERED)).sum())
        t.errored_abandoned_sessions += int((errored & (stage == PAYMENT)).sum())

    def _write(self, events: pd.DataFrame, day_index: int) -> list[tuple[str, int]]:
        """Write every event received on ``day_index`` (carried ones first) into its hour's file;
        keep those received later, drop those received after the last generated day."""
        pending = pd.concat([self.carry, events], ignore_index=True) if len(self.carry) else events
        received_day = pending["_received"].to_numpy() // _DAY_MS
        today = pending[received_day == day_index]
        later = pending[received_day > day_index]
        self.carry = later[later["_received"].to_numpy() // _DAY_MS < self.days]
        self.truth.not_delivered += len(later) - len(self.carry)
        if day_index == self.days - 1:
            self.truth.not_delivered += len(self.carry)
            self.carry = pd.DataFrame()
        if today.empty:
            return []
        today = today.sort_values("_received", kind="stable")
        hour = (today["_received"].to_numpy() % _DAY_MS) // _HOUR_MS
        folder = self.out_dir / "app_events" / (self.start + timedelta(days=day_index)).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        self.truth.events += len(today)
        self.truth.duplicates += int(today["_duplicate"].sum())
        self.truth.late_events += int(today["_late"].sum())
        written: list[tuple[str, int]] = []
        for h in np.unique(hour).tolist():
            part = today[hour == h]
            text = part[list(APP_EVENT_FIELDS)].to_json(orient="records", lines=True, force_ascii=False)
            (folder / f"events_{h:02d}.jsonl").write_text(text, encoding="utf-8", newline="\n")
            written.append((f"events_{h:02d}.jsonl", len(part)))
        return written

    def truth_entry(self) -> dict:
        """truth.json's planted["app_error"]."""
        p, t = self.planted, self.truth
        return {
            "page": p.app_error_page,
            "error_code": p.app_error_code,
            "start_date": self.error_from.isoformat(),
            "rate": p.app_error_rate,
            "abandon_share": p.app_error_abandon_share,
            "base_abandon_share": p.app_payment_abandon_share,
            "csat_penalty": p.app_error_csat_penalty,
            "errored_ordering_sessions": t.errored_ordering_sessions,
            "errored_abandoned_sessions": t.errored_abandoned_sessions,
            "payment_sessions": t.payment_sessions,
            "payment_orders": t.payment_orders,
        }

    def counts(self) -> dict:
        """truth.json's counts["app_events"]."""
        t = self.truth
        return {
            "events": t.events,
            "duplicates": t.duplicates,
            "late_events": t.late_events,
            "not_delivered": t.not_delivered,
            "sessions": t.sessions,
            "ordering_sessions": t.ordering_sessions,
        }


def _session_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """When browse and abandon sessions start: morning, lunch, afternoon and evening peaks, 7:00-22:00."""
    peak = rng.choice(4, size=n, p=[0.3, 0.3, 0.2, 0.2])
    seconds = rng.normal(
        np.array([8.5, 12.3, 15.5, 20.0])[peak] * 3600, np.array([1.0, 0.9, 1.8, 1.2])[peak] * 3600
    )
    outside = (seconds < 7 * 3600) | (seconds >= 22 * 3600)
    seconds[outside] = rng.uniform(7 * 3600, 22 * 3600, int(outside.sum()))
    return seconds.astype(np.int64)


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    text = rng.bytes(16 * n).hex()
    return [text[k : k + 32] for k in range(0, 32 * n, 32)]
