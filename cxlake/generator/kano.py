"""The demo's occasional Kano survey: a 问卷星 study asking members about features the chain might offer.

On the wave days (``Planted.kano_wave_days`` of every 30) about ``kano_respondents_per_day``
members answer, for each feature of the ``kano:`` section of cxlake/config/insights.yaml, its
functional ("如果门店提供燕麦奶，您的感受是？") and dysfunctional ("如果门店不提供…") question on the
five-point scale as 问卷星 words it (我很喜欢 / 理所当然 / 无所谓 / 能忍受 / 我很不喜欢). The download is
written like the in-store survey's: "answers as text", one header row, GB18030, CRLF, 序号 running
across days, to ``kano/<day>/wjx_kano_<yyyy-mm-dd>.csv``.

Each respondent's pair for a feature is drawn from a category first (the feature's planted one
most often, see :class:`~cxlake.generator.planted.Planted`), then uniformly among the cells of the
evaluation table that give that category, so the modal category of the pairs is the planted one.

Randomness: one generator per day from the run's seed and the Kano stream (``run.py``), drawn from
by nothing else, so adding or changing the survey leaves every other generated file as it was.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from cxlake.generator.chain import Chain
from cxlake.generator.planted import Planted
from cxlake.insights.kano import ANSWERS, CATEGORIES, EVALUATION_TABLE, KanoSurvey

SOURCE = "kano"
# How 问卷星 words the five answers (in cxlake.insights.kano.ANSWERS order).
WJX_ANSWERS = ("我很喜欢", "理所当然", "无所谓", "能忍受", "我很不喜欢")
_META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
_WJX_SOURCES = (("微信", "N/A"), ("手机提交", "直接访问"), ("链接", "直接访问"))
# (functional, dysfunctional) answer index pairs of each category, from the evaluation table.
_CELLS = {
    category: [
        (f, d)
        for f, functional in enumerate(ANSWERS)
        for d, dysfunctional in enumerate(ANSWERS)
        if EVALUATION_TABLE[functional][dysfunctional] == category
    ]
    for category in CATEGORIES
}


def category_shares(planted_category: str, planted: Planted) -> dict[str, float]:
    """A respondent's chance of each category for a feature planted as ``planted_category``."""
    shares = {"Q": planted.kano_questionable_share, planted_category: planted.kano_planted_share}
    if planted_category != "R":
        shares["R"] = planted.kano_reverse_share
    others = [c for c in ("A", "O", "M", "I") if c not in shares]
    rest = (1.0 - sum(shares.values())) / len(others)
    return shares | dict.fromkeys(others, rest)


class KanoSurveyWriter:
    """Writes the survey's download on wave days and keeps what truth.json says about it."""

    def __init__(self, survey: KanoSurvey, planted: Planted, chain: Chain) -> None:
        unplanted = [f.feature for f in survey.features if f.feature not in planted.kano_categories]
        if unplanted:
            raise ValueError(f"Planted.kano_categories has no category for {', '.join(unplanted)}")
        self.survey, self.planted, self.chain = survey, planted, chain
        self.serial = 0
        self.days: list[str] = []
        self.header = _META + [
            text
            for n, feature in enumerate(survey.features)
            for text in (
                f"{2 * n + 1}、如果门店提供{feature.label}，您的感受是？",
                f"{2 * n + 2}、如果门店不提供{feature.label}，您的感受是？",
            )
        ]
        # the download numbers the questions in order; the configured ids must be those numbers
        expected = [f"Q{k}" for k in range(1, 2 * len(survey.features) + 1)]
        configured = [q for f in survey.features for q in (f.functional, f.dysfunctional)]
        if configured != expected:
            raise ValueError(f"kano.features must ask Q1, Q2, ... in order (functional first): {configured}")

    def is_wave_day(self, i: int) -> bool:
        return i % 30 in self.planted.kano_wave_days

    def write_day(self, rng: np.random.Generator, folder: Path, day: date) -> int:
        """Write the day's download into ``folder``; returns the number of responses."""
        p, survey = self.planted, self.survey
        count = int(rng.poisson(p.kano_respondents_per_day))
        seconds = np.sort(rng.integers(9 * 3600, 22 * 3600, count))
        durations = rng.integers(70, 420, count)
        sources = rng.integers(0, len(_WJX_SOURCES), count)
        stores = rng.integers(0, self.chain.n_stores, count)
        octets = rng.integers(1, 255, (count, 4))
        answers = np.empty((count, 2 * len(survey.features)), dtype=int)
        for k, feature in enumerate(survey.features):
            shares = category_shares(p.kano_categories[feature.feature], p)
            names = list(shares)
            drawn = rng.choice(len(names), size=count, p=[shares[c] for c in names])
            noisy = rng.random(count) < p.kano_noise_share
            noise = rng.integers(0, len(ANSWERS), (count, 2))
            for r in range(count):
                cells = _CELLS[names[drawn[r]]]
                cell = tuple(noise[r]) if noisy[r] else cells[int(rng.integers(0, len(cells)))]
                answers[r, 2 * k], answers[r, 2 * k + 1] = cell
        path = folder / f"{survey.survey_id}_{day.isoformat()}.csv"
        with path.open("w", encoding="gb18030", newline="") as f:
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(self.header)
            midnight = datetime(day.year, day.month, day.day)
            for r in range(count):
                self.serial += 1
                s = midnight + timedelta(seconds=int(seconds[r]))
                store = int(stores[r])
                source, detail = _WJX_SOURCES[sources[r]]
                ip = ".".join(str(o) for o in octets[r])
                place = f"{self.chain.store_province[store]}-{self.chain.store_city[store]}"
                writer.writerow(
                    [
                        self.serial,
                        f"{s.year}/{s.month}/{s.day} {s.hour}:{s.minute:02d}:{s.second:02d}",
                        f"{durations[r]}秒",
                        source,
                        detail,
                        f"{ip}({place})",
                        *(WJX_ANSWERS[a] for a in answers[r]),
                    ]
                )
        self.days.append(day.isoformat())
        return count

    def truth(self) -> dict:
        """What truth.json's planted section says about the survey (the categories are its own key)."""
        return {"survey_id": self.survey.survey_id, "days": self.days, "respondents": self.serial}
