"""CRM members: kept as numeric arrays (2M customers fit in memory), formatted only when written.

Each customer has a home store (members buy there), a purchase propensity, a sign-up day
(about 15% sign up during the generated window and only buy from then on) and a tier that is
occasionally upgraded. The propensity is what the detractor-churn plant lowers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cxlake.generator.chain import Chain
from cxlake.generator.names import draw_name_codes, name_from_codes

TIERS = ("basic", "silver", "gold", "black")
_PHONE_PREFIXES = np.array([135, 136, 138, 139, 150, 151, 158, 177, 186, 187, 188, 199], dtype=np.int64)
_EMAIL_WORDS = (
    "coffee",
    "sunny",
    "lily",
    "tom",
    "xiaoyu",
    "momo",
    "amy",
    "kevin",
    "leo",
    "echo",
    "mia",
    "jay",
    "qiqi",
    "tutu",
    "yoyo",
)
_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "foxmail.com")


@dataclass
class Customers:
    id_width: int
    home_store: np.ndarray
    signup_day: np.ndarray  # days relative to the first generated day (negative: before it)
    signup_second: np.ndarray
    tier: np.ndarray
    updated_day: np.ndarray  # last day a CRM row was (or will be) delivered for the customer
    updated_second: np.ndarray
    propensity: np.ndarray  # relative purchase rate; detractor churn multiplies it down
    by_store: np.ndarray  # customer indices ordered by home store
    store_bounds: np.ndarray  # customers of store s are by_store[store_bounds[s]:store_bounds[s + 1]]
    name_codes: np.ndarray
    phone: np.ndarray
    email_word: np.ndarray  # -1: no e-mail
    email_number: np.ndarray
    email_domain: np.ndarray

    def __len__(self) -> int:
        return len(self.home_store)

    def customer_id(self, i: int) -> str:
        return f"C{i + 1:0{self.id_width}d}"

    def email(self, i: int) -> str:
        """The member's e-mail address, "" for a member without one."""
        word = int(self.email_word[i])
        if word < 0:
            return ""
        return f"{_EMAIL_WORDS[word]}{self.email_number[i]}@{_EMAIL_DOMAINS[self.email_domain[i]]}"


def build_customers(rng: np.random.Generator, chain: Chain, n: int, days: int) -> Customers:
    """Members spread over stores by store volume; sign-ups over three years before the window."""
    home = rng.choice(chain.n_stores, size=n, p=chain.store_volume / chain.store_volume.sum())
    during = rng.random(n) < 0.15
    signup_day = np.where(during, rng.integers(0, days, n), -rng.integers(1, 3 * 365, n))
    signup_second = rng.integers(8 * 3600, 23 * 3600, n)
    has_email = rng.random(n) < 0.6
    by_store = np.argsort(home, kind="stable")
    return Customers(
        id_width=max(6, len(str(n))),
        home_store=home,
        signup_day=signup_day,
        signup_second=signup_second,
        tier=rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05]).astype(np.int8),
        updated_day=signup_day.copy(),
        updated_second=signup_second.copy(),
        propensity=rng.gamma(1.5, 1.0 / 1.5, n),
        by_store=by_store,
        store_bounds=np.searchsorted(home[by_store], np.arange(chain.n_stores + 1), side="left"),
        name_codes=draw_name_codes(rng, n),
        phone=rng.choice(_PHONE_PREFIXES, n) * 100_000_000 + rng.integers(0, 100_000_000, n),
        email_word=np.where(has_email, rng.integers(0, len(_EMAIL_WORDS), n), -1),
        email_number=rng.integers(1, 99_999, n),
        email_domain=rng.integers(0, len(_EMAIL_DOMAINS), n),
    )


def upgrade_tiers(rng: np.random.Generator, customers: Customers, day_index: int) -> None:
    """About 0.1% of active non-black members move up one tier today (a 'changed' CRM row)."""
    candidates = np.flatnonzero((customers.signup_day <= day_index) & (customers.tier < 3))
    chosen = candidates[rng.random(len(candidates)) < 0.001]
    customers.tier[chosen] += 1
    customers.updated_day[chosen] = day_index
    customers.updated_second[chosen] = rng.integers(0, 86_400, len(chosen))


def crm_rows_for_day(customers: Customers, chain: Chain, start: date, day_index: int):
    """Rows delivered on `day_index`: everyone signed up by then on the first day, else new or changed."""
    if day_index == 0:
        selected = np.flatnonzero(customers.signup_day <= 0)
    else:
        selected = np.flatnonzero(customers.updated_day == day_index)
    for i in selected:
        yield _row(customers, chain, start, int(i))


def _row(c: Customers, chain: Chain, start: date, i: int) -> list[str]:
    signup = start + timedelta(days=int(c.signup_day[i]))
    updated = start + timedelta(days=int(c.updated_day[i]))
    second = int(c.updated_second[i])
    store = int(c.home_store[i])
    return [
        c.customer_id(i),
        name_from_codes(c.name_codes[i]),
        str(c.phone[i]),
        c.email(i),
        TIERS[c.tier[i]],
        signup.isoformat(),
        chain.store_city[store],
        chain.store_ids[store],
        f"{updated.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+08:00",
    ]
