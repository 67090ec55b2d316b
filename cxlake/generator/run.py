"""The demo data generator: a fictional coffee-and-tea chain (栖云咖啡) written as its tools export it.

Output under ``out_dir`` (see docs/landing.md): ``reference/`` (first day only), ``crm/``, ``pos/``,
``survey_invitations/``, ``qualtrics/`` (survey SV_cxlakeApp: app and delivery orders), ``wjx/``
(survey wjx_instore: in-store QR), ``reviews/`` (dianping, meituan, xiaohongshu), one folder per day,
``kano/`` (问卷星 Kano survey wjx_kano, on a few days of every 30 only: :mod:`cxlake.generator.kano`),
``app_events/`` (the ordering app's events, one JSON-lines file per hour of receipt:
:mod:`cxlake.generator.app_events`), plus ``truth.json``.

Planted truths (parameters in :class:`~cxlake.generator.planted.Planted`, all written to
truth.json under "planted"):

- wait time: ready_at - ordered_at above ``wait_threshold_minutes`` lowers speed CSAT (delivery CSAT
  for delivery orders) and NPS; one *slow store* has waits ``slow_store_wait_multiplier`` times longer.
- driver weights: NPS = round(intercept + sum over the channel's touchpoints of w_tp * (CSAT_tp - 3)
  - wait penalty + noise), clipped to 0..10; taste strongest, then speed, staff, value, delivery, app,
  environment.
- gaming store: two of its baristas ask in-store customers to answer on the spot, so most of their
  responses are NPS 10 with every CSAT 5, submitted 1-5 minutes after the order (keys listed), from
  ``gaming_start_date`` on (``gaming_start_share`` of the days in): the store's NPS rises part-way
  through. A gamed answer hides a detractor's score, so no case opens and that member churns.
- competitor on price: 山野茶铺 reviews are positive about value far more often than ours.
- detractor churn and recovery (the closed loop): each store works a planted share of its
  detractors' cases ("case_work_stores": rate and median minutes to acknowledge; a quarter of the
  stores never works one). For every detractor response (NPS <= 6) delivered, truth.json's
  "case_work" says whether the store worked the case (acknowledged, called back, resolved so many
  minutes after the feedback) or not. From the next day on, the member's purchase propensity is
  ``churn_purchase_rate_factor`` of normal if the case was not worked and
  ``recovered_purchase_rate_factor`` if it was, and a recovered member's later answers score
  ``recovered_nps_bump`` higher (until their next detractor answer).
- frontline (:mod:`cxlake.generator.staff_mentions`, its own stream): comments about the staff
  name the serving staff member (小王, 伟芳, 王伟芳) ``staff_named_share`` of the time; in one store a
  *praised* and a *coached* barista are named in every such comment and get extra named praise
  (staff CSAT 4-5) or complaints (1-3). "frontline" lists the pair and every named mention.
- quality-gate plants (response keys listed): Survey Preview / Survey Test rows, speeders,
  straight-liners and same-day duplicate submissions; and "delivery_defects": on day 8 of every 30,
  one POS row with an unknown store and one without an amount (file and line listed).
- app error (:mod:`cxlake.generator.app_events`, its own stream): from ``app_error_start_share`` of
  the days in, a share of the app sessions reaching the payment page hit an app_error there; most
  give up (the payment->order conversion drops), the orders of the rest rate the app touchpoint
  ``app_error_csat_penalty`` lower. "app_error" gives the start day and the counts.

truth.json also holds "comments" (one label per non-empty survey comment: response_key
"<survey_id>:<response_id>", aspects, sentiment; streamed) and "reviews" (the same per review).

Mechanics: every random draw comes from ``default_rng(SeedSequence([seed, stream, day]))``, so the
same seed and start give byte-identical files. The day loop writes each day's files and drops
them; only the customers, the roster and at most two days of not-yet-submitted responses stay
in memory (responses land in the partition of the day they are submitted, up to two days after
the sale; those submitted after the last day are never delivered).
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cxlake import landing
from cxlake.generator import rows
from cxlake.generator.app_events import AppEvents
from cxlake.generator.case_work import draw_case_work, draw_store_case_work
from cxlake.generator.chain import BRAND, SCALES, Chain, build_chain
from cxlake.generator.customers import Customers, build_customers, crm_rows_for_day, upgrade_tiers
from cxlake.generator.feature_wishes import FeatureWishes
from cxlake.generator.kano import KanoSurveyWriter
from cxlake.generator.planted import Planted
from cxlake.generator.pos import simulate_pos_day
from cxlake.generator.responses import WJX_ID, Response, ResponseFactory
from cxlake.generator.reviews import ReviewFactory, page
from cxlake.generator.staff_mentions import StaffMentions
from cxlake.generator.survey_files import SURVEY_FILES
from cxlake.generator.truth import TruthWriter
from cxlake.insights.kano import load_kano_survey
from cxlake.invitations import INVITED, compact_history, load_rules, select_invitations

_STREAMS = {
    "chain": 1,
    "customers": 2,
    "crm": 3,
    "pos": 4,
    "surveys": 5,
    "comments": 6,
    "reviews": 7,
    "review_text": 8,
    "testers": 9,
    "case_work": 10,
    "case_work_stores": 11,
    "kano": 12,
    "staff_mentions": 13,
    "feature_wishes": 14,
    "app_events": 15,
}
# Responses that open a case when they score as a detractor (duplicates and tester rows do not).
_CASED_KINDS = frozenset({"normal", "speeder", "straight_liner"})
_QUALITY_KINDS = {
    "preview": "previews",
    "test": "tests",
    "speeder": "speeders",
    "straight_liner": "straight_liners",
}


@dataclass
class GenerationSummary:
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # per source
    rows: dict[str, int] = field(default_factory=dict)  # data rows (reviews: posts) per source

    def add(self, source: str, rows: int) -> None:
        self.files[source] = self.files.get(source, 0) + 1
        self.rows[source] = self.rows.get(source, 0) + rows


def _rng(seed: int, stream: str, day: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[stream], day]))


def _rnd(seed: int, stream: str, day: int = 0) -> random.Random:
    return random.Random(int(np.random.SeedSequence([seed, _STREAMS[stream], day]).generate_state(1)[0]))


class _Landing:
    """Writes files under out_dir/<source>/<day>/ and counts them."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.summary = GenerationSummary(out_dir)

    def folder(self, source: str, day: date) -> Path:
        folder = self.out_dir / source / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def csv(self, delivered: landing.DeliveredCsv, day: date, data) -> None:
        source = delivered.source
        with (self.folder(source, day) / delivered.file_name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(delivered.columns)
            count = 0
            for row in data:
                writer.writerow(row)
                count += 1
        self.summary.add(source, count)

    def json(self, source: str, day: date, name: str, content: dict, count: int) -> None:
        text = json.dumps(content, ensure_ascii=False, indent=2) + "\n"
        (self.folder(source, day) / name).write_text(text, encoding="utf-8", newline="\n")
        self.summary.add(source, count)


def generation_window(
    start: date | None, end: date | None, days: int | None, today: date
) -> tuple[date, int]:
    """(first day, number of days) the demo covers: ``days`` (default 90) from ``start`` when it is
    given (or ``start`` through ``end``), else the ``days`` ending on ``end``. ``end`` defaults to
    the last whole day, yesterday: a day is exported once it is over, and a day still running would
    hold visits later than now, which the quality gate rightly quarantines. Yesterday's feedback is
    still fresh enough to open live cases."""
    if start is not None and end is not None:
        span = (end - start).days + 1
        if span < 1:
            raise ValueError(f"end {end} is before start {start}")
        if days is not None and days != span:
            raise ValueError(f"{start}..{end} is {span} days, not {days}; give two of start, end, days")
        return start, span
    count = 90 if days is None else days
    if count < 1:
        raise ValueError("days must be at least 1")
    if start is not None:
        return start, count
    return (end or today - timedelta(days=1)) - timedelta(days=count - 1), count


def generate(
    out_dir,
    scale: str = "small",
    seed: int = 42,
    start: date = date(2026, 1, 1),
    days: int | None = None,
    progress: bool = True,
) -> GenerationSummary:
    """Write the demo landing folders and truth.json for `days` days (default 90) from `start`."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    days = 90 if days is None else days
    if days < 1:
        raise ValueError("days must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    landing = _Landing(out)
    planted = Planted()
    chain = build_chain(_rng(seed, "chain"), SCALES[scale], start)
    customers = build_customers(_rng(seed, "customers"), chain, SCALES[scale].customers, days)
    run = _Run(seed, start, days, chain, customers, planted, landing, TruthWriter(out))
    for i in tqdm(range(days), disable=not progress, desc="cxlake generate", unit="day"):
        run.day(i, SCALES[scale].transactions_per_store_day)
    run.finish(scale)
    return landing.summary


class _Run:
    """The state carried from day to day: counters, pending responses, churned customers, truth lists."""

    def __init__(
        self,
        seed: int,
        start: date,
        days: int,
        chain: Chain,
        customers: Customers,
        planted: Planted,
        landing: _Landing,
        truth: TruthWriter,
    ) -> None:
        self.seed, self.start, self.days = seed, start, days
        self.chain, self.customers, self.planted = chain, customers, planted
        self.landing, self.truth = landing, truth
        self.gaming_from = start + timedelta(days=int(days * planted.gaming_start_share))
        self.mentions = StaffMentions(_rng(seed, "staff_mentions"), chain, planted)
        wishes = FeatureWishes(planted.kano_categories, planted.feature_wish_share)
        self.responses = ResponseFactory(chain, planted, self.gaming_from, self.mentions, wishes)
        self.staff_mentions: list[dict] = []
        self.reviews = ReviewFactory(chain, planted)
        self.pending: dict[int, list[Response]] = defaultdict(list)
        # the closed loop: the latest detractor case of a member decides churned or recovered
        self.base_propensity = customers.propensity.copy()
        self.churned = np.zeros(len(customers), dtype=bool)
        self.recovered = np.zeros(len(customers), dtype=bool)
        self.store_case_work = draw_store_case_work(_rng(seed, "case_work_stores"), chain.n_stores, planted)
        self.case_work: list[dict] = []
        self.next_transaction = 1
        self.next_invitation = 1
        # the survey tool invites what cxlake's contact-frequency rules select, from its own history
        self.invitation_rules = load_rules()
        self.invitation_history = pd.DataFrame({"customer_id": [], "invited_on": []})
        self.wjx_serial = 0
        self.quality: dict[str, list] = {name: [] for name in (*_QUALITY_KINDS.values(), "duplicates")}
        self.gamed_keys: list[str] = []
        self.delivery_defects: list[dict] = []
        self.review_truth: list[dict] = []
        self.kano = KanoSurveyWriter(load_kano_survey(), planted, chain)
        self.app = AppEvents(seed, chain, customers, planted, start, days, landing.out_dir)

    def day(self, i: int, per_store_day: float) -> None:
        day, seed = self.start + timedelta(days=i), self.seed
        if i == 0:
            self.landing.csv(landing.STORES, day, rows.store_rows(self.chain))
            self.landing.csv(landing.STAFF, day, rows.staff_rows(self.chain))
        upgrade_tiers(_rng(seed, "crm", i), self.customers, i)
        self.landing.csv(
            landing.CUSTOMERS,
            day,
            crm_rows_for_day(self.customers, self.chain, self.start, i),
        )
        pos = simulate_pos_day(
            _rng(seed, "pos", i),
            self.chain,
            self.customers,
            self.planted,
            i,
            day.weekday(),
            per_store_day,
            self.next_transaction,
        )
        self.next_transaction += len(pos)
        self.landing.csv(
            landing.TRANSACTIONS,
            day,
            self._with_delivery_defects(rows.transaction_rows(pos, self.chain, self.customers, day), i, day),
        )
        self.landing.csv(landing.TRANSACTION_LINES, day, rows.line_rows(pos))
        app = self.app.simulate(_rng(seed, "app_events", i), pos, i)
        for _name, count in app.files:
            self.landing.summary.add("app_events", count)
        invited = self._invited(pos, day)
        surveys = self.responses.simulate(
            _rng(seed, "surveys", i),
            _rnd(seed, "comments", i),
            pos,
            day,
            invited,
            self.recovered,
            _rnd(seed, "staff_mentions", i + 1),  # day 0's draw of the stream picks the planted pair
            _rnd(seed, "feature_wishes", i),
            app_errors=app.errored,
        )
        self.landing.csv(
            landing.INVITATIONS,
            day,
            rows.invitation_rows(
                pos,
                self.chain,
                self.customers,
                day,
                surveys.invited,
                surveys.invited_at,
                self.next_invitation,
            ),
        )
        self.next_invitation += len(surveys.invited)
        for response in surveys.responses:
            submitted_day = (response.submitted.date() - self.start).days
            if submitted_day < self.days:
                self.pending[submitted_day].append(response)
        self._deliver(i, day)
        review_day = self.reviews.simulate(_rng(seed, "reviews", i), _rnd(seed, "review_text", i), pos, day)
        for platform, posts in review_day.pages.items():
            self.landing.json("reviews", day, f"{platform}.json", page(platform, day, posts), len(posts))
        self.review_truth.extend(review_day.truth)
        if self.kano.is_wave_day(i):
            folder = self.landing.folder("kano", day)
            self.landing.summary.add("kano", self.kano.write_day(_rng(seed, "kano", i), folder, day))

    def _invited(self, pos, day: date) -> np.ndarray:
        """Indices of the day's transactions the rules invite; the history keeps them (compacted)."""
        candidates = rows.invitation_candidates(pos, self.chain, self.customers)
        decisions = select_invitations(candidates, self.invitation_history, set(), self.invitation_rules, day)
        chosen = decisions[decisions["decision"] == INVITED]
        invited = np.flatnonzero(candidates["transaction_id"].isin(chosen["transaction_id"]).to_numpy())
        today = pd.DataFrame({"customer_id": chosen["customer_id"].astype(str), "invited_on": day})
        history = pd.concat([self.invitation_history, today], ignore_index=True)
        self.invitation_history = compact_history(history, self.invitation_rules, day)
        return invited

    def _deliver(self, i: int, day: date) -> None:
        """Write the responses submitted today, record their truth, then let today's detractors churn
        or recover by how their store worked their case."""
        testers, case_rng = _rnd(self.seed, "testers", i), _rng(self.seed, "case_work", i)
        delivered = self.pending.pop(i, [])
        if i % 30 == 0:
            delivered += self.responses.tester_rows(testers, day, "preview", 2)
        if i % 30 == (1 if self.days > 1 else 0):
            delivered += self.responses.tester_rows(testers, day, "test", 2)
        delivered.sort(key=lambda r: (r.submitted, r.seq))
        for survey_id, (source, write) in SURVEY_FILES.items():
            batch = [r for r in delivered if r.survey_id == survey_id]
            if survey_id == WJX_ID:
                for r in batch:
                    self.wjx_serial += 1
                    r.response_id = str(self.wjx_serial)
            path = self.landing.folder(source, day) / f"{survey_id}_{day.isoformat()}.csv"
            self.landing.summary.add(source, write(path, batch, self.chain))
        for r in delivered:
            self._record(r, case_rng)

    def _record(self, r: Response, case_rng: np.random.Generator) -> None:
        if r.aspects is not None:
            self.truth.add_comment(r.key, r.aspects, r.sentiment or "neutral")
        if r.mention is not None and r.kind != "duplicate":
            self.staff_mentions.append(
                {
                    "response_key": r.key,
                    "staff_id": self.chain.staff_ids[r.mention.staff],
                    "polarity": r.mention.polarity,
                    "written_as": r.mention.form,
                    "added": r.mention.added,
                }
            )
        if r.kind in _QUALITY_KINDS:
            self.quality[_QUALITY_KINDS[r.kind]].append(r.key)
        elif r.kind == "duplicate" and r.duplicate_of is not None:
            self.quality["duplicates"].append({"response_key": r.key, "duplicate_of": r.duplicate_of.key})
        elif r.kind == "gamed":
            self.gamed_keys.append(r.key)
            if r.customer >= 0 and r.hidden_nps is not None and r.hidden_nps <= self.planted.detractor_max:
                self._churn(r.customer, worked=False)
        if r.kind in _CASED_KINDS and r.customer >= 0 and r.nps <= self.planted.detractor_max:
            self._work_case(r, case_rng)

    def _work_case(self, r: Response, case_rng: np.random.Generator) -> None:
        """Draw what the store did with the detractor's case; a genuine detractor then churns or
        recovers by it (a speeder's or straight-liner's score says nothing about the customer, but
        the store cannot tell, so their cases are worked alike)."""
        ids = {
            "response_key": r.key,
            "survey_id": r.survey_id,
            "response_id": r.response_id,
            "store_id": self.chain.store_ids[r.store],
        }
        entry = draw_case_work(case_rng, self.store_case_work, self.planted, r.store, ids)
        self.case_work.append(entry)
        if r.kind == "normal":
            self._churn(r.customer, worked=entry["worked"])

    def _churn(self, customer: int, worked: bool) -> None:
        """A detractor buys less from now on, unless their case was worked (then they recover)."""
        p = self.planted
        factor = p.recovered_purchase_rate_factor if worked else p.churn_purchase_rate_factor
        self.customers.propensity[customer] = self.base_propensity[customer] * factor
        self.churned[customer], self.recovered[customer] = not worked, worked

    def _with_delivery_defects(self, transactions, i: int, day: date):
        """On day 8 of every 30, two POS rows arrive broken, as real deliveries sometimes do: the quality
        gate must quarantine exactly these (file and line in truth.json) and load the rest."""
        defects = {
            2: ("store_id", "S999", "store_id S999 is not in the roster"),
            4: ("amount", "", "amount is missing"),
        }
        for index, row in enumerate(transactions):
            if i % 30 == 7 and index in defects:
                column, value, problem = defects[index]
                row = list(row)
                row[landing.TRANSACTIONS.columns.index(column)] = value
                line = index + 2  # after the header; POS fields never span lines
                self.delivery_defects.append(
                    {"file": f"pos/{day.isoformat()}/transactions.csv", "line": line, "problem": problem}
                )
            yield row

    def finish(self, scale: str) -> None:
        p, chain = self.planted, self.chain
        planted = asdict(p)
        planted["slow_store_id"] = chain.store_ids[chain.slow_store]
        planted["gaming_store_id"] = chain.store_ids[chain.gaming_store]
        planted["gaming_staff_ids"] = sorted(chain.staff_ids[s] for s in chain.gaming_staff)
        planted["gaming_start_date"] = self.gaming_from.isoformat()
        planted["gaming_response_keys"] = self.gamed_keys
        planted["competitor_on_value"] = "山野茶铺"
        planted["churned_customers"] = int(self.churned.sum())
        planted["recovered_customers"] = int(self.recovered.sum())
        stores = self.store_case_work
        planted["case_work_stores"] = {
            store_id: {
                "rate": round(float(stores.rate[s]), 4),
                "ack_median_minutes": round(float(stores.ack_median_minutes[s]), 1),
            }
            for s, store_id in enumerate(chain.store_ids)
        }
        planted["quality"] = self.quality
        planted["delivery_defects"] = self.delivery_defects
        planted["kano"] = self.kano.truth()
        planted["frontline"] = {**self.mentions.truth(), "mentions": self.staff_mentions}
        planted["app_error"] = self.app.truth_entry()
        header = {
            "generator": {
                "scale": scale,
                "seed": self.seed,
                "start": self.start.isoformat(),
                "days": self.days,
            },
            "brand": BRAND,
            "counts": {
                "files": self.landing.summary.files,
                "rows": self.landing.summary.rows,
                "comments": self.truth.comments,
                "app_events": self.app.counts(),
            },
            "planted": planted,
            "case_work": self.case_work,
            "reviews": self.review_truth,
        }
        self.truth.finish(header)
