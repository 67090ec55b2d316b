"""The published example both key-driver test modules check against."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import pytest

# mtcars (Henderson & Velleman 1981, from Motor Trend 1974; R's datasets::mtcars): the columns the
# published example uses, all 32 cars in R's row order.
MTCARS = """mpg,cyl,disp,hp,gear
21,6,160,110,4
21,6,160,110,4
22.8,4,108,93,4
21.4,6,258,110,3
18.7,8,360,175,3
18.1,6,225,105,3
14.3,8,360,245,3
24.4,4,146.7,62,4
22.8,4,140.8,95,4
19.2,6,167.6,123,4
17.8,6,167.6,123,4
16.4,8,275.8,180,3
17.3,8,275.8,180,3
15.2,8,275.8,180,3
10.4,8,472,205,3
10.4,8,460,215,3
14.7,8,440,230,3
32.4,4,78.7,66,4
30.4,4,75.7,52,4
33.9,4,71.1,65,4
21.5,4,120.1,97,3
15.5,8,318,150,3
15.2,8,304,150,3
13.3,8,350,245,3
19.2,8,400,175,3
27.3,4,79,66,4
26,4,120.3,91,5
30.4,4,95.1,113,5
15.8,8,351,264,5
19.7,6,145,175,5
15,8,301,335,5
21.4,4,121,109,4
"""
# Published: the README of the R package rwa (Martin Chan, github.com/martinctc/rwa, "Basic
# example"): rwa(mtcars, outcome = "mpg", predictors = c("cyl", "disp", "hp", "gear")), Johnson's
# method after Tonidandel & LeBreton (2015); R² 0.7791896 and these Raw.RelWeight values.
MTCARS_R_SQUARED = 0.7791896
MTCARS_RAW_WEIGHTS = {"cyl": 0.2284797, "disp": 0.2221469, "hp": 0.2321744, "gear": 0.0963886}
MTCARS_RESCALED_PERCENT = {"cyl": 29.32274, "disp": 28.50999, "hp": 29.79691, "gear": 12.37037}


@dataclass(frozen=True)
class Published:
    csv: str
    r_squared: float
    raw_weights: dict[str, float]
    rescaled_percent: dict[str, float]


@pytest.fixture
def published() -> Published:
    return Published(MTCARS, MTCARS_R_SQUARED, MTCARS_RAW_WEIGHTS, MTCARS_RESCALED_PERCENT)


@pytest.fixture
def mtcars() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(MTCARS))
