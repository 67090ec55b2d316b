"""The demo's survey comments name Kano features now and then, worded after each feature's planted
category, so the Insights page's Kano tab has comments to show beside the categories (issue 15)."""

from __future__ import annotations

import duckdb

from cxlake.generator.feature_wishes import REMARKS
from cxlake.generator.planted import Planted
from cxlake.insights.kano import load_kano_survey


def test_comments_name_kano_features_in_the_words_of_their_planted_category(demo_build):
    labels = {f.feature: f.label for f in load_kano_survey().features}
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        comments = [
            comment
            for (comment,) in connection.execute(
                "select comment from marts.fct_survey_responses where comment is not null"
            ).fetchall()
        ]
    named = {feature: [c for c in comments if label in c] for feature, label in labels.items()}
    assert sum(bool(found) for found in named.values()) >= 6, {f: len(c) for f, c in named.items()}
    for feature, category in Planted().kano_categories.items():
        label = labels[feature]
        remarks = [remark.format(label=label) for remark in REMARKS[category]]
        others = [
            remark.format(label=label)
            for other, texts in REMARKS.items()
            if other != category
            for remark in texts
        ]
        for comment in named[feature]:
            if any(remark in comment for remark in remarks + others):
                assert any(remark in comment for remark in remarks), (feature, comment)
    # a remark is part of a comment, not a comment of its own
    wishes = [c for found in named.values() for c in found]
    assert all(len(c) > len("要是有燕麦奶就好了。") for c in wishes)
