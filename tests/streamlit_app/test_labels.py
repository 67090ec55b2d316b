"""streamlit_app.labels.readable: what every table shows and every download carries."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from streamlit_app.labels import readable


def test_codes_become_words_and_gaps_empty_cells_in_both_languages():
    frame = pd.DataFrame(
        {
            "store_id": ["S001", "S002"],
            "channel": ["in_store", None],
            "nps_category": ["promoter", "brand_new_code"],  # an unknown code shows as it is
            "partition_date": pd.to_datetime(["2026-01-05", None]),
            "ci_low": [12.345, np.nan],
            "top2_share": [0.8531, 0.5],
            "rank": pd.array([1, None], dtype="Int64"),
        }
    )
    english = readable(frame, "en")
    assert list(english.columns) == [
        "Store id", "Channel", "Category", "Day", "95% CI low", "CSAT (top-2-box) (%)", "Rank",
    ]  # fmt: skip
    assert english["Channel"].tolist() == ["In store", ""]
    assert english["Category"].tolist() == ["Promoter", "brand_new_code"]
    assert english["Day"].tolist() == [date(2026, 1, 5), ""]  # a day, not "2026-01-05 00:00:00" or NaT
    assert english["95% CI low"].tolist()[0] == 12.3 and np.isnan(english["95% CI low"].tolist()[1])
    assert english["CSAT (top-2-box) (%)"].tolist() == [85.3, 50.0]
    assert english["Rank"].isna().tolist() == [False, True]  # a number column keeps its gap (drawn empty)
    chinese = readable(frame, "zh")
    assert list(chinese.columns[:4]) == ["门店编号", "渠道", "类别", "日期"]
    assert chinese["渠道"].tolist() == ["到店", ""]


def test_the_input_is_left_alone_and_twin_headers_are_numbered():
    frame = pd.DataFrame({"store": ["人民广场店"], "store_name": ["人民广场店"], "channel": ["app"]})
    shown = readable(frame, "en")
    assert list(shown.columns) == ["Store", "Store 2", "Channel"]
    assert list(frame.columns) == ["store", "store_name", "channel"] and frame["channel"].tolist() == ["app"]


def test_any_column_name_a_sql_result_may_have():
    frame = pd.DataFrame({0: [1.23456], "count(*)": [3], "channel": ["delivery"]})
    assert readable(frame, "en").values.tolist() == [[1.23, 3, "Delivery"]]
    assert list(readable(frame, "en").columns) == ["0", "count(*)", "Channel"]
