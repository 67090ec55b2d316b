"""What the survey suites need from a response's answers, for every survey source.

Answers are judged through their response (they follow it into quarantine), so the response row
carries what its answers' checks need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def with_longest_texts(responses: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """``responses`` plus ``_longest_answer`` / ``_longest_question``: the length of each response's
    longest answer and question (id or text), so the suite's text limits judge the answers through
    their response (answers follow their response into quarantine)."""
    longest = (
        answers.assign(
            _answer=answers["answer"].fillna("").str.len(),
            _question=np.maximum(
                answers["question_id"].fillna("").str.len(), answers["question_text"].fillna("").str.len()
            ),
        )
        .groupby("response_id")[["_answer", "_question"]]
        .max()
    )
    return responses.assign(
        _longest_answer=responses["response_id"].map(longest["_answer"]).fillna(0),
        _longest_question=responses["response_id"].map(longest["_question"]).fillna(0),
    )
