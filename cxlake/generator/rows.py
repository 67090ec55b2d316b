"""Rows of the plain UTF-8 CSV sources (reference, POS, invitations), formatted from day arrays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

from cxlake.contracts import CHANNELS
from cxlake.generator.chain import CATEGORIES, PRODUCTS, REGIONS, Chain
from cxlake.generator.customers import Customers
from cxlake.generator.pos import DayPos
from cxlake.generator.responses import INVITE_CHANNELS, QUALTRICS_ID, WJX_ID


def clock(day: str, seconds: np.ndarray) -> list[str]:
    """ISO timestamps with the +08:00 offset for seconds since local midnight (all within the day)."""
    return [f"{day}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08:00" for s in seconds.tolist()]


def money(fen: np.ndarray) -> list[str]:
    return [f"{f // 100}.{f % 100:02d}" for f in fen.tolist()]


def store_rows(chain: Chain) -> Iterator[list[str]]:
    for i, store_id in enumerate(chain.store_ids):
        region_id, region_name, *_ = REGIONS[chain.store_region[i]]
        yield [
            store_id,
            chain.store_names[i],
            region_id,
            region_name,
            chain.store_city[i],
            chain.store_opened[i].isoformat(),
        ]


def staff_rows(chain: Chain) -> Iterator[list[str]]:
    for i, staff_id in enumerate(chain.staff_ids):
        yield [
            staff_id,
            chain.store_ids[chain.staff_store[i]],
            chain.staff_names[i],
            chain.staff_roles[i],
            chain.staff_hired[i].isoformat(),
        ]


def transaction_rows(pos: DayPos, chain: Chain, customers: Customers, day: date) -> Iterator[list]:
    iso = day.isoformat()
    columns = zip(
        (f"T{n:08d}" for n in pos.number.tolist()),
        (chain.store_ids[s] for s in pos.store.tolist()),
        (chain.staff_ids[s] for s in pos.staff.tolist()),
        ("" if c < 0 else customers.customer_id(c) for c in pos.customer.tolist()),
        (CHANNELS[c] for c in pos.channel.tolist()),
        clock(iso, pos.ordered),
        clock(iso, pos.ready),
        money(pos.amount),
        money(pos.refund),
        pos.remake.tolist(),
        strict=True,
    )
    return (list(row) for row in columns)


def line_rows(pos: DayPos) -> Iterator[list]:
    numbers = pos.number[pos.line_tx].tolist()
    for number, line, product, quantity in zip(
        numbers, pos.line_number.tolist(), pos.line_product.tolist(), pos.line_quantity.tolist(), strict=True
    ):
        product_id, name, category, price, _ = PRODUCTS[product]
        yield [
            f"T{number:08d}",
            line,
            product_id,
            name,
            CATEGORIES[category],
            quantity,
            f"{price // 100}.{price % 100:02d}",
            f"{price * quantity // 100}.{price * quantity % 100:02d}",
        ]


def invitation_candidates(pos: DayPos, chain: Chain, customers: Customers) -> pd.DataFrame:
    """The day's transactions as :func:`cxlake.invitations.select_invitations` reads them, with each
    member's contacts as the CRM holds them; the index is the transaction's index in ``pos``."""
    members = pos.customer.tolist()
    return pd.DataFrame(
        {
            "transaction_id": [f"T{n:08d}" for n in pos.number.tolist()],
            "store_id": [chain.store_ids[s] for s in pos.store.tolist()],
            "channel": [CHANNELS[c] for c in pos.channel.tolist()],
            "customer_id": ["" if c < 0 else customers.customer_id(c) for c in members],
            "phone": ["" if c < 0 else str(customers.phone[c]) for c in members],
            "email": ["" if c < 0 else customers.email(c) for c in members],
        }
    )


def invitation_rows(
    pos: DayPos,
    chain: Chain,
    customers: Customers,
    day: date,
    invited: np.ndarray,
    invited_at: np.ndarray,
    first_number: int,
) -> Iterator[list]:
    """Invitations in time order, numbered from `first_number`."""
    order = np.lexsort((invited, invited_at))
    tx, at = invited[order], invited_at[order]
    stamps = clock(day.isoformat(), at)
    for k, t in enumerate(tx.tolist()):
        channel = int(pos.channel[t])
        customer = int(pos.customer[t])
        yield [
            f"I{first_number + k:09d}",
            WJX_ID if channel == 0 else QUALTRICS_ID,
            f"T{int(pos.number[t]):08d}",
            "" if customer < 0 else customers.customer_id(customer),
            chain.store_ids[int(pos.store[t])],
            INVITE_CHANNELS[channel],
            stamps[k],
        ]
