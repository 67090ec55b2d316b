"""Comments that name the staff member who served the order, as Chinese customers write them.

A customer who writes about the service often names the person: by the name on the badge (王伟芳),
the given name (伟芳) or, most often, 小 + surname (小王). Two ways a comment comes to name them:

- a comment that already talks about the staff (its staff clause chosen from the respondent's own
  staff CSAT, :mod:`cxlake.generator.comments`) names the serving staff member with
  ``Planted.staff_named_share``: the generic clause (店员小姐姐很热情) is rewritten as a named
  one of the same polarity (店员小王很热情), so the comment's aspects do not change;
- two planted staff members of one store: every praising clause about the *praised* one and every
  complaining clause about the *coached* one names them (the other polarity as for anyone), and a share
  (``Planted.planted_staff_extra_share``) of their other normal responses gets a named clause
  added, praise for the *praised* one where the staff CSAT is 4-5, a complaint for the *coached*
  one where it is 1-3 (a response left without a comment gets the clause as its comment); the
  response's aspect truth gains ``staff`` with that polarity. Scores are never changed: a changed
  rating would change what the comments stream draws for every later comment of the day.

Every draw comes from the run's own ``staff_mentions`` stream: the comments stream, the scores and
every other planted truth are what they were without this module. The planted pair and every named
mention (response key, staff id, polarity, the form written) go to truth.json.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from cxlake.generator.chain import Chain
from cxlake.generator.comments import NEGATIVE, POSITIVE, to_traditional
from cxlake.generator.planted import Planted

PRAISED, COACHED = "praised", "coached"
NAMED_CLAUSES = {
    POSITIVE: (
        "店员{name}很热情",
        "{name}服务态度很好",
        "{name}服务很周到",
        "收银的{name}很有礼貌",
        "店员{name}很耐心",
    ),
    NEGATIVE: (
        "收银的{name}态度差",
        "店员{name}态度很冷漠",
        "{name}服务态度不太好",
        "店员{name}很敷衍",
        "店员{name}爱理不理的",
    ),
}
# How a name is written: 小 + surname, the given name (two characters only: 伟 alone is no name),
# or the whole name from the badge.
FORM_WEIGHTS = {"xiao_surname": 0.6, "given_name": 0.2, "full_name": 0.2}


def name_forms(full_name: str) -> dict[str, str]:
    """The ways a customer writes ``full_name`` (one-character surnames, as the roster's)."""
    forms = {"xiao_surname": "小" + full_name[0], "full_name": full_name}
    if len(full_name) == 3:
        forms["given_name"] = full_name[1:]
    return forms


@dataclass(frozen=True)
class Mention:
    staff: int  # index into the chain's staff
    polarity: str  # positive | negative
    form: str  # the name as written
    added: bool  # True: a planted clause was added; False: the comment's staff clause was named


class StaffMentions:
    """Picks the planted pair once, then names staff in comments from the staff_mentions stream."""

    def __init__(self, rng: np.random.Generator, chain: Chain, planted: Planted) -> None:
        self.chain, self.planted = chain, planted
        # The store whose staff serve the most orders each (not the slow or the gaming store, whose
        # plants would blur this one): the pair has answers enough to stand out within a month.
        per_staff = chain.store_volume / np.diff(chain.store_staff_start)
        per_staff[[chain.slow_store, chain.gaming_store]] = -np.inf
        store = int(np.argmax(per_staff))
        start, stop = int(chain.store_staff_start[store]), int(chain.store_staff_start[store + 1])
        baristas = np.arange(start + 2, stop)  # the 店长 and 值班经理 serve less often in a real shop
        praised, coached = (int(i) for i in rng.choice(baristas, size=2, replace=False))
        self.store = store
        self.roles = {praised: PRAISED, coached: COACHED}

    def apply(
        self,
        rnd: random.Random,
        staff: int,
        kind: str,
        staff_csat: int | None,
        text: str,
        aspects: dict[str, str],
        clauses: dict[str, str],
    ) -> tuple[str, dict[str, str], Mention | None]:
        """The comment (and its aspect truth) after naming the serving staff member, if it does."""
        if staff < 0 or kind not in ("normal", "gamed"):
            return text, aspects, None
        role = self.roles.get(staff)
        polarity = aspects.get("staff")
        if polarity in (POSITIVE, NEGATIVE) and "staff" in clauses:
            planted_polarity = {PRAISED: POSITIVE, COACHED: NEGATIVE}.get(role or "")
            share = 1.0 if polarity == planted_polarity else self.planted.staff_named_share
            if rnd.random() >= share:
                return text, aspects, None
            form, named = self._clause(rnd, staff, polarity)
            for written, replacement, written_form in (
                (clauses["staff"], named, form),
                (to_traditional(clauses["staff"]), to_traditional(named), to_traditional(form)),
            ):
                if written in text:
                    rewritten = text.replace(written, replacement, 1)
                    return rewritten, aspects, Mention(staff, polarity, written_form, added=False)
            return text, aspects, None  # a typo landed inside the clause: left as written, unnamed
        if role is None or kind != "normal" or staff_csat is None or "staff" in aspects:
            return text, aspects, None
        wanted = POSITIVE if role == PRAISED else NEGATIVE
        share = self.planted.planted_staff_extra_share
        if (wanted == POSITIVE) != (staff_csat >= 4) or rnd.random() >= share:
            return text, aspects, None
        form, named = self._clause(rnd, staff, wanted)
        joined = text + rnd.choice(("，", "。", " ")) + named if text else named
        return joined, {**aspects, "staff": wanted}, Mention(staff, wanted, form, added=True)

    def _clause(self, rnd: random.Random, staff: int, polarity: str) -> tuple[str, str]:
        forms = name_forms(self.chain.staff_names[staff])
        kinds = [kind for kind in FORM_WEIGHTS if kind in forms]
        kind = rnd.choices(kinds, [FORM_WEIGHTS[k] for k in kinds])[0]
        return forms[kind], rnd.choice(NAMED_CLAUSES[polarity]).format(name=forms[kind])

    def truth(self) -> dict[str, object]:
        chain = self.chain
        by_role = {role: chain.staff_ids[s] for s, role in self.roles.items()}
        return {
            "store_id": chain.store_ids[self.store],
            "praised_staff_id": by_role[PRAISED],
            "coached_staff_id": by_role[COACHED],
        }
