"""Survey invitations and responses for one day of sales, with the planted effects.

Latent model per response (parameters in :class:`Planted`): a respondent mood plus the store's
quality sets every touchpoint CSAT; waits above the threshold cut speed (and delivery) CSAT;
NPS is a weighted sum of the CSATs that apply to the channel. Junk is planted on top: gamed
responses (gaming store), speeders, straight-liners and duplicate submissions.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from cxlake.contracts import CHANNELS
from cxlake.generator.chain import CATEGORIES, PRODUCTS, Chain
from cxlake.generator.comments import aspects_from_ratings, compose_with_clauses, overall_sentiment
from cxlake.generator.feature_wishes import FeatureWishes
from cxlake.generator.planted import Planted
from cxlake.generator.pos import DayPos
from cxlake.generator.staff_mentions import Mention, StaffMentions
from cxlake.journey import touchpoints_for_channel

QUALTRICS_ID, WJX_ID = "SV_cxlakeApp", "wjx_instore"
TOUCHPOINTS = ("taste", "speed", "staff", "environment", "value", "app", "delivery")
APPLIES = {ch: frozenset(tp.id for tp in touchpoints_for_channel(ch)) for ch in CHANNELS}
INVITE_CHANNELS = ("receipt_qr", "app_push", "sms")
_IP_FIRST_OCTETS = (
    36,
    39,
    58,
    59,
    60,
    61,
    101,
    106,
    110,
    111,
    112,
    113,
    114,
    115,
    116,
    117,
    118,
    119,
    120,
    121,
    122,
    123,
    124,
    125,
    180,
    182,
    183,
    211,
    218,
    219,
    220,
    221,
    222,
    223,
)
_ID_CHARS = string.ascii_letters + string.digits


@dataclass
class Response:
    seq: int  # creation order: tie-breaker when sorting a day's file
    survey_id: str
    kind: str  # normal | gamed | speeder | straight_liner | duplicate | preview | test
    channel: str
    store: int
    transaction: int | None  # transaction number
    customer: int  # -1 for guests
    submitted: datetime
    duration: int
    nps: int
    csat: dict[str, int | None]  # touchpoints of this channel; None = skipped
    ces: int | None
    categories: tuple[str, ...]
    comment: str
    aspects: dict[str, str] | None  # truth of a non-empty comment
    ip: str
    wjx_source: int = 0
    response_id: str = ""  # Qualtrics: set at creation; 问卷星: the 序号, set when written
    hidden_nps: int | None = None  # gamed: the score the customer would have given
    staff: int = -1  # who served the order (index into the chain's staff); -1 for tester rows
    mention: Mention | None = None  # the comment names a staff member (truth)
    duplicate_of: Response | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return f"{self.survey_id}:{self.response_id}"

    @property
    def sentiment(self) -> str | None:
        return None if self.aspects is None else overall_sentiment(self.aspects)


@dataclass
class DaySurveys:
    invited: np.ndarray  # indices into the day's transactions
    invited_at: np.ndarray  # seconds since midnight
    responses: list[Response]


class ResponseFactory:
    """Turns answered invitations into responses; keeps the running creation counter."""

    def __init__(
        self,
        chain: Chain,
        planted: Planted,
        gaming_from: date,
        mentions: StaffMentions,
        wishes: FeatureWishes,
    ) -> None:
        self.chain = chain
        self.planted = planted
        self.mentions = mentions
        self.wishes = wishes
        self.gaming_from = gaming_from  # the gaming staff solicit answers from this day on
        self.seq = 0

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def simulate(
        self,
        rng: np.random.Generator,
        rnd: random.Random,
        pos: DayPos,
        day: date,
        invited: np.ndarray,
        recovered: np.ndarray,
        mention_rnd: random.Random,
        wish_rnd: random.Random,
        app_errors: np.ndarray | None = None,
    ) -> DaySurveys:
        """Invitations of ``invited`` (indices into the day's transactions) and their responses;
        ``recovered`` flags the members whose last detractor case was worked (they score higher);
        ``mention_rnd`` (the staff_mentions stream) decides which comments name the server,
        ``wish_rnd`` (the feature_wishes stream) which end with a remark about a Kano feature;
        ``app_errors`` (per transaction, default none) flags the app orders whose session hit the
        planted app error (their app CSAT is lower)."""
        p, chain = self.planted, self.chain
        channel = pos.channel[invited]
        offset = np.select(
            [channel == 1, channel == 2],
            [rng.integers(60, 600, len(invited)), rng.integers(1800, 3600, len(invited))],
            0,
        )
        invited_at = np.minimum(
            np.where(channel == 0, pos.ordered[invited], pos.ready[invited] + offset), 86_399
        )
        gaming = day >= self.gaming_from
        soliciting = np.isin(pos.staff[invited], chain.gaming_staff) & (channel == 0) & gaming
        answer_rate = np.where(soliciting, p.gaming_response_rate, p.response_rate)
        answered = rng.random(len(invited)) < answer_rate
        tx, at, solicited = invited[answered], invited_at[answered], soliciting[answered]
        m = len(tx)
        gamed = solicited & (rng.random(m) < p.gaming_share)
        kind_draw = rng.random(m)
        kinds = np.where(
            gamed,
            "gamed",
            np.where(
                kind_draw < p.speeder_share,
                "speeder",
                np.where(kind_draw < p.speeder_share + p.straight_liner_share, "straight_liner", "normal"),
            ),
        )
        errors = np.zeros(len(pos), dtype=bool) if app_errors is None else app_errors
        csat, nps, ces = self._latent(rng, pos, tx, recovered)
        delay_draw = rng.random(m)
        delay = np.select(
            [gamed, delay_draw < 0.5, delay_draw < 0.85],
            [0, rng.exponential(1200, m) + 60, rng.uniform(3600, 12 * 3600, m)],
            rng.uniform(12 * 3600, 40 * 3600, m),
        ).astype(np.int64)
        submit_second = np.where(
            gamed,
            pos.ordered[tx] + rng.integers(*p.gaming_delay_minutes, m) * 60 + rng.integers(0, 60, m),
            at + delay,
        )
        night = (submit_second % 86_400 < 7 * 3600) & ~gamed
        submit_second = np.where(night, submit_second + rng.integers(7 * 3600, 9 * 3600, m), submit_second)
        base_duration = rng.lognormal(np.log(np.where(pos.channel[tx] == 0, 110, 150)), 0.4, m)
        duration = np.select(
            [kinds == "speeder", gamed],
            [rng.integers(6, 20, m), rng.integers(35, 80, m)],
            np.maximum(base_duration, 30),
        ).astype(int)
        duplicate = (kinds == "normal") & (rng.random(m) < p.duplicate_share)
        skip_environment = rng.random(m) < 0.03
        midnight = datetime.combine(day, time())
        responses: list[Response] = []
        for j in range(m):
            t = int(tx[j])
            ch = CHANNELS[int(pos.channel[t])]
            ratings = {tp: int(csat[j, k]) for k, tp in enumerate(TOUCHPOINTS) if tp in APPLIES[ch]}
            response = Response(
                seq=self._next_seq(),
                survey_id=WJX_ID if ch == "in_store" else QUALTRICS_ID,
                kind=str(kinds[j]),
                channel=ch,
                store=int(pos.store[t]),
                transaction=int(pos.number[t]),
                customer=int(pos.customer[t]),
                submitted=midnight + timedelta(seconds=int(submit_second[j])),
                duration=int(duration[j]),
                nps=int(nps[j]),
                csat=ratings,
                ces=int(ces[j]) if ch == "app" else None,
                categories=tuple(c for b, c in enumerate(CATEGORIES) if pos.category_mask[t] >> b & 1),
                comment="",
                aspects=None,
                ip=_ip(rnd),
                wjx_source=rnd.choices((0, 1, 2), (0.7, 0.25, 0.05))[0],
                staff=int(pos.staff[t]),
            )
            self._shape(
                rnd, mention_rnd, response, int(pos.first_product[t]), bool(skip_environment[j]), wish_rnd
            )
            if (
                errors[t]
                and response.kind == "normal"
                and response.csat.get("app") is not None
                and "app" not in (response.aspects or {})  # a comment about the app keeps its label true
            ):
                # The planted app error marks the App rating only, after everything else was drawn
                # from the day's streams: NPS, comments, cases and churn stay as without it.
                response.csat["app"] = max(1, response.csat["app"] - round(p.app_error_csat_penalty))
            responses.append(response)
            if duplicate[j]:
                copy = self._duplicate(rnd, response)
                if copy is not None:
                    responses.append(copy)
        return DaySurveys(invited=invited, invited_at=invited_at, responses=responses)

    def _latent(self, rng: np.random.Generator, pos: DayPos, tx: np.ndarray, recovered: np.ndarray):
        """CSAT for every touchpoint, NPS from the channel's CSATs (plus the bump of a recovered
        member), CES from the app CSAT."""
        p = self.planted
        m = len(tx)
        slow = pos.wait[tx] > p.wait_threshold_minutes * 60
        mood = rng.normal(0, p.mood_sd, m) + self.chain.store_quality[pos.store[tx]]
        raw = np.empty((m, len(TOUCHPOINTS)))
        for k, tp in enumerate(TOUCHPOINTS):
            raw[:, k] = p.csat_mean + p.csat_offsets[tp] + mood + rng.normal(0, p.csat_noise_sd, m)
        raw[:, TOUCHPOINTS.index("speed")] -= slow * p.speed_csat_penalty
        raw[:, TOUCHPOINTS.index("delivery")] -= slow * p.delivery_csat_penalty
        csat = np.clip(np.rint(raw), 1, 5).astype(int)
        applies = np.array([[tp in APPLIES[ch] for tp in TOUCHPOINTS] for ch in CHANNELS])[pos.channel[tx]]
        weights = np.array([p.driver_weights[tp] for tp in TOUCHPOINTS])
        latent = (
            p.nps_intercept
            + ((csat - 3) * weights * applies).sum(axis=1)
            - slow * p.nps_wait_penalty
            + rng.normal(0, p.nps_noise_sd, m)
        )
        rated = np.where(applies, csat, np.nan)  # every channel rates four or more touchpoints
        worst_gap = np.nanmin(rated, axis=1) - np.nanmean(rated, axis=1)
        latent += p.peak_end_low_weight * (worst_gap + p.peak_end_typical_gap)
        customer = pos.customer[tx]
        latent += np.where(customer >= 0, recovered[customer], False) * p.recovered_nps_bump
        nps = np.clip(np.rint(latent), 0, 10).astype(int)
        app = csat[:, TOUCHPOINTS.index("app")]
        ces = np.clip(np.rint(4.6 + 0.9 * (app - 3) + rng.normal(0, 0.9, m)), 1, 7).astype(int)
        return csat, nps, ces

    def _shape(
        self,
        rnd: random.Random,
        mention_rnd: random.Random,
        r: Response,
        product: int,
        skip_environment: bool,
        wish_rnd: random.Random,
    ) -> None:
        """Apply the response's kind to its answers, then write its comment from what it answered
        (naming the serving staff member from ``mention_rnd`` where :class:`StaffMentions` says,
        and remarking on a Kano feature from ``wish_rnd`` where :class:`FeatureWishes` says)."""
        if r.survey_id == QUALTRICS_ID:
            r.response_id = "R_" + "".join(rnd.choices(_ID_CHARS, k=15))
        if r.kind == "gamed":
            r.hidden_nps = r.nps
            r.nps, r.csat, r.ces = 10, dict.fromkeys(r.csat, 5), 7 if r.ces is not None else None
        elif r.kind == "speeder":
            r.nps, r.csat = rnd.randint(0, 10), {tp: rnd.randint(1, 5) for tp in r.csat}
            return
        elif r.kind == "straight_liner":
            r.nps, r.csat = rnd.randint(0, 10), dict.fromkeys(r.csat, rnd.randint(1, 5))
            return
        elif skip_environment and "environment" in r.csat:
            r.csat["environment"] = None
        if rnd.random() < (0.7 if r.kind == "gamed" else 0.3):
            r.comment, aspects, r.mention = self.mentions.apply(
                mention_rnd, r.staff, r.kind, r.csat.get("staff"), "", {}, {}
            )
            r.aspects = aspects if r.comment else None
            return
        aspects = aspects_from_ratings(rnd, r.csat)
        name, category = PRODUCTS[product][1], PRODUCTS[product][2]
        text, clauses = compose_with_clauses(rnd, aspects, name, food=category >= 2)
        r.comment, r.aspects, r.mention = self.mentions.apply(
            mention_rnd, r.staff, r.kind, r.csat.get("staff"), text, aspects, clauses
        )
        r.comment = self.wishes.apply(wish_rnd, r.comment)

    def _duplicate(self, rnd: random.Random, original: Response) -> Response | None:
        """The same respondent submits the same answers again minutes later, the same day."""
        submitted = original.submitted + timedelta(seconds=rnd.randint(60, 1200))
        if submitted.date() != original.submitted.date():
            return None
        copy = Response(
            **{
                **original.__dict__,
                "seq": self._next_seq(),
                "kind": "duplicate",
                "submitted": submitted,
                "duration": max(30, original.duration + rnd.randint(-20, 20)),
                "csat": dict(original.csat),
                "duplicate_of": original,
            }
        )
        if copy.survey_id == QUALTRICS_ID:
            copy.response_id = "R_" + "".join(rnd.choices(_ID_CHARS, k=15))
        return copy

    def tester_rows(self, rnd: random.Random, day: date, kind: str, count: int) -> list[Response]:
        """Survey Preview / Survey Test rows the survey owner clicked through in Qualtrics."""
        rows = []
        for _ in range(count):
            store = rnd.randrange(self.chain.n_stores)
            ratings = {tp: rnd.randint(1, 5) for tp in TOUCHPOINTS if tp in APPLIES["app"]}
            rows.append(
                Response(
                    seq=self._next_seq(),
                    survey_id=QUALTRICS_ID,
                    kind=kind,
                    channel="app",
                    store=store,
                    transaction=None,
                    customer=-1,
                    submitted=datetime.combine(day, time(9)) + timedelta(seconds=rnd.randint(0, 3600)),
                    duration=rnd.randint(20, 90),
                    nps=rnd.randint(0, 10),
                    csat=ratings,
                    ces=rnd.randint(1, 7),
                    categories=("咖啡",),
                    comment="测试" if kind == "test" else "",
                    aspects=None,
                    ip=_ip(rnd),
                    response_id="R_" + "".join(rnd.choices(_ID_CHARS, k=15)),
                )
            )
        return rows


def _ip(rnd: random.Random) -> str:
    return f"{rnd.choice(_IP_FIRST_OCTETS)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
