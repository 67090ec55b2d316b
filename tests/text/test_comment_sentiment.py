"""The shipped scorer on the demo generator's survey comments, scored as the pipeline scores them:
alerts are raised on 'negative', so both its precision and its recall must hold on clear comments."""

from __future__ import annotations

from collections import Counter

from cxlake.generator.comments import NEGATIVE, POSITIVE, sample_comments
from cxlake.text.scoring import score_texts


def test_negative_label_has_precision_and_recall_of_at_least_0_8_on_generated_comments():
    comments = sample_comments(seed=101, n=1500)  # a seed the bench does not use
    labels = score_texts([c.text for c in comments], workers=1)["sentiment_label"].tolist()
    pairs = Counter((c.sentiment, got) for c, got in zip(comments, labels, strict=True))
    hit, false_alarm, missed = pairs[NEGATIVE, NEGATIVE], pairs[POSITIVE, NEGATIVE], pairs[NEGATIVE, POSITIVE]
    assert hit > 100  # enough negatives for the figures to mean something
    assert hit / (hit + false_alarm) >= 0.80, pairs
    assert hit / (hit + missed) >= 0.80, pairs
