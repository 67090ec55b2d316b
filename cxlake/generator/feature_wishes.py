"""Comments that name a feature of the Kano survey, as members write them unprompted.

A few survey comments (``Planted.feature_wish_share`` of those with text) end with a remark about one
of the Kano features (the ``kano:`` section of cxlake/config/insights.yaml), worded after the
feature's planted category: a wish for an attractive one (要是有燕麦奶就好了), a demand for a must-be
one (小程序点单是基本的，一定要有), more of a one-dimensional one, indifference to an indifferent
one, and a dislike of a reverse one. The Insights page's Kano tab lists the comments naming a feature
beside its category, so the demo has some to show.

Randomness: its own stream (``run.py``), so the rest of the generated data stays as it was.
"""

from __future__ import annotations

import random

from cxlake.insights.kano import load_kano_survey

# Remarks per planted category; {label} is the feature as the survey names it.
REMARKS = {
    "A": ("要是有{label}就好了", "希望能有{label}", "如果能提供{label}会很惊喜"),
    "O": ("{label}越完善越好", "{label}还可以做得更好", "很看重{label}"),
    "M": ("{label}是基本的，一定要有", "{label}必须有", "没有{label}的话很不方便"),
    "I": ("{label}有没有都无所谓", "{label}对我来说不重要"),
    "R": ("不喜欢{label}", "{label}不太需要"),
}


class FeatureWishes:
    """Appends a remark about a Kano feature to some comments (the truth: which feature)."""

    def __init__(self, categories: dict[str, str], share: float) -> None:
        survey = load_kano_survey()
        self.features = [(f.label, categories[f.feature]) for f in survey.features if f.feature in categories]
        self.share = share

    def apply(self, rnd: random.Random, comment: str) -> str:
        """``comment`` with a remark about one feature appended, drawn from ``rnd`` (two draws
        per non-empty comment, whether or not it gets one, so the stream stays aligned)."""
        if not comment or not self.features:
            return comment
        chosen, pick = rnd.random(), rnd.random()
        if chosen >= self.share:
            return comment
        label, category = self.features[int(pick * len(self.features))]
        remarks = REMARKS[category]
        remark = remarks[int(pick * len(self.features) * len(remarks)) % len(remarks)].format(label=label)
        return f"{comment.rstrip('。！!～~ ')}，{remark}。"
