"""Survey integrity rules on small seeded frames with a known answer (cxlake/integrity.py).

Thirty honest stores answer at random around one chain-wide distribution; store S99 then does one
thing a gaming store does. Each rule must find S99 and nothing else; the flag bar must need two
kinds of evidence (or one very strong), and the suspect responses must be S99's manufactured ones.
The score-gain rule gets a store whose NPS rose in the later half of the range while its members
bought no more, and stores whose gain the behaviour confirms (more repeat purchases, fewer
negative reviews), which it must leave alone.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

from cxlake.integrity import (
    IntegrityConfig,
    assess,
    holm,
    is_countable,
    load_config,
    parse_config,
    rule_evidence,
    rule_labels,
    window_cut,
)
from cxlake.metrics import CountableRule

HONEST_NPS = np.array([1, 1, 1, 2, 2, 3, 6, 10, 14, 18, 16]) / 74  # P(score 0..10): NPS about 15
GAMING = "S99"
FIRST_DAY, DAYS = pd.Timestamp("2026-03-02"), 30  # the later window starts on day 15
GAIN_RULE = "gain_without_behaviour"


def honest_frame(seed: int = 1, stores: int = 30, per_store: int = 40) -> pd.DataFrame:
    """Honest responses: scores, delays, devices and comments drawn alike in every store."""
    rng = np.random.default_rng(seed)
    n = stores * per_store
    store = np.repeat([f"S{i:02d}" for i in range(stores)], per_store)
    staff = np.array([f"{s}-{k}" for s, k in zip(store, rng.integers(0, 4, n), strict=True)])
    nps = rng.choice(11, size=n, p=HONEST_NPS)
    straight = rng.random(n) < 0.1
    # dates and purchases from a stream of their own: the other columns stay as they were drawn
    later = np.random.default_rng([seed, 1])
    day = later.integers(0, DAYS, n)
    member = later.random(n) < 0.7
    # a member buys again within 7 days of about half their answers
    next_purchase = np.where(member & (later.random(n) < 0.8), later.geometric(0.15, n), np.nan)
    return pd.DataFrame(
        {
            "response_key": [f"r{i:05d}" for i in range(n)],
            "store_id": store,
            "staff_id": staff,
            "channel": "in_store",
            "nps_score": nps,
            "minutes_after_sale": rng.exponential(20, n) + 1,
            "is_straight_liner": straight,
            "min_csat_score": np.where(straight, rng.integers(1, 4, n), rng.integers(1, 5, n)),
            "comment_sentiment_label": np.where(rng.random(n) < 0.3, "positive", None),
            "ip_address": [f"10.0.{i // 250}.{i % 250}" for i in rng.permutation(n)],
            "response_date": FIRST_DAY + pd.to_timedelta(day, unit="D"),
            "days_followed": np.where(member, DAYS - 1 - day, np.nan),
            "days_to_next_purchase": next_purchase,
        }
    )


def with_gaming_store(frame: pd.DataFrame, change: dict, share: float, per_store: int = 40) -> pd.DataFrame:
    """Add store S99 (two staff members), its first ``share`` of responses changed by ``change``."""
    gaming = frame[frame["store_id"] == "S00"].copy().reset_index(drop=True)
    gaming["response_key"] = [f"g{i:03d}" for i in range(len(gaming))]
    gaming["store_id"] = GAMING
    gaming["staff_id"] = np.where(np.arange(len(gaming)) % 2 == 0, "S99-a", "S99-b")
    gaming["ip_address"] = [f"172.16.0.{i}" for i in range(len(gaming))]
    touched = np.arange(len(gaming)) < round(share * per_store)
    for column, value in change.items():
        gaming.loc[touched, column] = value
    return pd.concat([frame, gaming], ignore_index=True)


def packaged_raw() -> dict:
    """The shipped cxlake/config/integrity.yaml as a mapping, to edit."""
    return yaml.safe_load(resources.files("cxlake.config").joinpath("integrity.yaml").read_text("utf-8"))


def only_rule(config: IntegrityConfig, rule_id: str) -> IntegrityConfig:
    return replace(config, rules=tuple(r for r in config.rules if r.id == rule_id))


@pytest.mark.parametrize(
    ("rule_id", "change", "share"),
    [
        # asked for a 10 on the spot
        ("excess_tens", {"nps_score": 10}, 0.6),
        # answered at the till: 2 minutes after the order instead of about 20
        ("fast_after_sale", {"minutes_after_sale": 2.0}, 0.6),
        # everyone gives the same 8: no 10s to notice, but no spread either
        ("low_variance", {"nps_score": 8}, 0.9),
        # one phone fills in a quarter of the store's surveys
        ("shared_device", {"ip_address": "172.16.9.9"}, 0.25),
        # every CSAT item at 5
        ("straight_lined_top", {"is_straight_liner": True, "min_csat_score": 5}, 0.5),
        # a 10 with a complaint written under it
        ("top_with_negative_comment", {"nps_score": 10, "comment_sentiment_label": "negative"}, 0.3),
    ],
)
def test_each_rule_finds_the_store_that_does_what_it_looks_for_and_no_honest_one(rule_id, change, share):
    config = only_rule(load_config(), rule_id)
    evidence = rule_evidence(with_gaming_store(honest_frame(), change, share), "store", config)
    hit = set(evidence.loc[evidence["is_hit"], "subject_id"])
    gaming = evidence.set_index("subject_id").loc[GAMING]
    assert hit == {GAMING}, f"{rule_id}: hit {sorted(hit)}; {GAMING}: {gaming.to_dict()}"


def test_honest_stores_alone_are_hit_by_no_rule_on_several_seeds():
    config = load_config()
    for seed in range(1, 6):
        evidence = rule_evidence(honest_frame(seed), "store", config)
        assert not evidence["is_hit"].any(), evidence[evidence["is_hit"]].to_dict("records")


def test_one_kind_of_evidence_is_not_enough_but_two_kinds_flag():
    config = load_config()
    # more 10s and more all-5s is what a well-loved store looks like: one family (scores), and at
    # this strength not beyond strong_p
    loved = assess(with_gaming_store(honest_frame(), {"nps_score": 10}, 0.4), config)
    store = loved.stores.set_index("store_id").loc[GAMING]
    assert "excess_tens" in store["reasons"].split(",")
    assert not store["is_flagged"] and store["integrity_score"] < 1
    # the same 10s, each arriving two minutes after the sale: scores and timing
    gamed = assess(
        with_gaming_store(honest_frame(), {"nps_score": 10, "minutes_after_sale": 2.0}, 0.4), config
    )
    stores = gamed.stores.set_index("store_id")
    assert stores.loc[GAMING, "is_flagged"]
    assert set(stores.loc[GAMING, "reasons"].split(",")) >= {"excess_tens", "fast_after_sale"}
    assert stores.loc[GAMING, "integrity_score"] < 0.5
    assert stores.index[stores["is_flagged"]].tolist() == [GAMING]
    assert (stores.drop(GAMING)["integrity_score"] == 1.0).all()


def test_suspect_responses_are_the_manufactured_ones_and_nps_without_them_drops():
    frame = with_gaming_store(honest_frame(), {"nps_score": 10, "minutes_after_sale": 2.0}, 0.4)
    result = assess(frame, load_config())
    manufactured = {f"g{i:03d}" for i in range(16)}
    assert set(result.suspects["response_key"]) == manufactured
    assert set(result.suspects["suspect_reason"]) <= {"excess_tens", "fast_after_sale"}
    store = result.stores.set_index("store_id").loc[GAMING]
    assert store["responses"] == 40 and store["suspect_responses"] == 16
    assert store["nps_excluding_suspect"] < store["nps"] - 20
    assert store["share_fast_after_sale"] >= 0.4 and store["peer_share_fast_after_sale"] < 0.3
    staff = result.staff.set_index("staff_id")
    assert staff.loc[["S99-a", "S99-b"], "suspect_responses"].sum() == 16
    assert staff.loc[["S99-a", "S99-b"], "store_id"].tolist() == [GAMING, GAMING]


def test_a_subject_with_fewer_responses_than_the_minimum_is_never_judged():
    frame = with_gaming_store(honest_frame(), {"nps_score": 10, "minutes_after_sale": 2.0}, 0.4)
    frame = frame[~frame["response_key"].isin([f"g{i:03d}" for i in range(20, 40)])]  # 20 left, 16 gamed
    result = assess(frame, load_config())
    store = result.stores.set_index("store_id").loc[GAMING]
    assert store["responses"] == 20 and not store["is_flagged"] and store["integrity_score"] == 1.0
    assert store["reasons"] == ""


def with_trend_store(
    frame: pd.DataFrame, store_id: str, change: dict, share: float, prefix: str
) -> pd.DataFrame:
    """Add ``store_id``, a copy of S00's answers, with ``change`` applied to the first ``share`` of
    its answers in the later window (``days_to_next_purchase`` only where a member answered)."""
    store = frame[frame["store_id"] == "S00"].copy().reset_index(drop=True)
    store["response_key"] = [f"{prefix}{i:03d}" for i in range(len(store))]
    store["store_id"] = store_id
    store["staff_id"] = f"{store_id}-a"
    late = store["response_date"] >= FIRST_DAY + pd.Timedelta(days=DAYS // 2)
    touched = late & (late.cumsum() <= round(share * late.sum()))
    for column, value in change.items():
        where = touched & store["days_followed"].notna() if column == "days_to_next_purchase" else touched
        store.loc[where, column] = value
    return pd.concat([frame, store], ignore_index=True)


def gain_frame(store_id: str = GAMING, change: dict | None = None) -> pd.DataFrame:
    """Thirty honest stores of 200 answers and ``store_id``, whose later half has 50% 10s (and
    ``change`` besides): the gaming store's manufactured 10s by default, its members buying as
    before."""
    return with_trend_store(
        honest_frame(per_store=200), store_id, {"nps_score": 10, **(change or {})}, 0.5, "g"
    )


def reviews_frame(seed: int = 3) -> pd.DataFrame:
    """Forty reviews per store over the range, a quarter negative; S97's negative ones stop in
    the later window (its customers really are happier)."""
    rng = np.random.default_rng(seed)
    stores = [f"S{i:02d}" for i in range(30)] + [GAMING, "S98", "S97"]
    store = np.repeat(stores, 40)
    day = rng.integers(0, DAYS, len(store))
    negative = (rng.random(len(store)) < 0.25) & ~((store == "S97") & (day >= DAYS // 2))
    return pd.DataFrame(
        {
            "store_id": store,
            "staff_id": None,
            "review_date": FIRST_DAY + pd.to_timedelta(day, unit="D"),
            "is_negative": negative,
        }
    )


def test_a_score_gain_without_more_repeat_purchases_or_fewer_complaints_is_hit_and_a_real_one_is_not():
    config = only_rule(load_config(), GAIN_RULE)
    gamed = rule_evidence(gain_frame(), "store", config, reviews=reviews_frame()).set_index("subject_id")
    assert set(gamed.index[gamed["is_hit"]]) == {GAMING}
    # NPS about +35 against a flat chain, significant among 31 stores
    assert gamed.loc[GAMING, "statistic"] - gamed.loc[GAMING, "peer_statistic"] > 30
    assert abs(gamed.loc[GAMING, "peer_statistic"]) < 5 and gamed.loc[GAMING, "p_adjusted"] <= config.alpha
    # the same gain, but every member who answered in the later half came back within a day
    happier = rule_evidence(
        gain_frame("S98", {"days_to_next_purchase": 1}), "store", config, reviews=reviews_frame()
    ).set_index("subject_id")
    assert not happier["is_hit"].any()
    assert happier.loc["S98", ["statistic", "p_value"]].tolist() == pytest.approx(
        gamed.loc[GAMING, ["statistic", "p_value"]].tolist()
    )
    # the same gain, and the store's negative reviews stopped in the later half
    fewer_complaints = gain_frame("S97")
    assert not rule_evidence(fewer_complaints, "store", config, reviews=reviews_frame())["is_hit"].any()
    # without the reviews nothing tells S97's gain from a manufactured one
    unreviewed = rule_evidence(fewer_complaints, "store", config).set_index("subject_id")
    assert set(unreviewed.index[unreviewed["is_hit"]]) == {"S97"}


def test_the_score_gain_rule_judges_only_what_it_can_see():
    config = only_rule(load_config(), GAIN_RULE)
    # no member followed for the rule's days: repeat purchases cannot be judged, nothing is tested
    unfollowed = gain_frame().assign(days_followed=np.nan)
    evidence = rule_evidence(unfollowed, "store", config)
    assert evidence["p_value"].isna().all() and not evidence["is_hit"].any()
    # honest stores alone: no gain beyond the peers' is significant on several seeds
    for seed in range(1, 6):
        honest = rule_evidence(
            honest_frame(seed, per_store=200), "store", config, reviews=reviews_frame(seed)
        )
        assert not honest["is_hit"].any(), honest[honest["is_hit"]].to_dict("records")
        assert honest["p_value"].notna().sum() == 30


def test_a_score_gain_counts_as_one_family_never_flags_alone_and_marks_no_response():
    config = load_config()
    alone = only_rule(config, GAIN_RULE)
    strong = replace(alone, strong_p=alone.alpha)  # the gain's corrected p is below this
    result = assess(gain_frame(), strong, reviews_frame())
    store = result.stores.set_index("store_id").loc[GAMING]
    assert store["reasons"] == GAIN_RULE and not store["is_flagged"] and store["integrity_score"] < 1
    # beside another family (answers within minutes of the sale) the store is flagged; the
    # suspects are the fast answers, the gain marks none of its own
    frame = gain_frame()
    gamed_late = frame["response_key"].str.startswith("g") & (frame["nps_score"] == 10)
    frame.loc[gamed_late, "minutes_after_sale"] = 2.0
    both = replace(config, rules=tuple(r for r in config.rules if r.id in {GAIN_RULE, "fast_after_sale"}))
    result = assess(frame, both, reviews_frame())
    stores = result.stores.set_index("store_id")
    assert stores.index[stores["is_flagged"]].tolist() == [GAMING]
    assert set(stores.loc[GAMING, "reasons"].split(",")) == {GAIN_RULE, "fast_after_sale"}
    fast = frame.loc[frame["store_id"].eq(GAMING) & frame["minutes_after_sale"].le(6), "response_key"]
    assert set(result.suspects["response_key"]) == set(fast)
    assert set(result.suspects["suspect_reason"]) == {"fast_after_sale"}


def test_the_later_window_starts_after_the_split_share_of_the_days():
    days = pd.Series(pd.to_datetime(["2026-03-02", "2026-03-20", "2026-03-31"]))
    assert window_cut(days, 0.5) == pd.Timestamp("2026-03-17")
    assert window_cut(days, 0.4) == pd.Timestamp("2026-03-14")


def test_holm_multiplies_the_smallest_p_by_the_number_of_tests_and_keeps_the_order():
    adjusted = holm(pd.Series([0.01, 0.04, 0.03, np.nan], index=list("abcd")))
    assert adjusted.round(6).tolist()[:3] == [0.03, 0.06, 0.06]
    assert np.isnan(adjusted["d"])


def test_countable_rule_leaves_out_previews_duplicates_and_speeders_as_fct_survey_responses_does():
    frame = pd.DataFrame(
        {
            "status": ["ok", "offline", "preview", "ok", "ok", "ok"],
            "is_duplicate": [False, False, False, True, False, False],
            "is_speeder": [False, False, False, False, True, False],
            "is_straight_liner": [False, False, False, False, False, True],
        }
    )
    rule = CountableRule(("ok", "offline"), True, True, "with_speeding")
    assert is_countable(frame, rule).tolist() == [True, True, False, False, False, True]
    always = CountableRule(("ok",), False, False, "always")
    assert is_countable(frame, always).tolist() == [True, False, False, True, True, False]


def test_rule_labels_come_in_both_languages():
    english, chinese = rule_labels("en"), rule_labels("zh")
    assert set(english) == set(chinese) >= {
        "excess_tens", "fast_after_sale", "low_variance", "shared_device", GAIN_RULE
    }  # fmt: skip
    assert chinese[GAIN_RULE] == "评分上升但复购未增、差评未减"
    assert english["fast_after_sale"] == "Answered within minutes of the sale"
    assert chinese["excess_tens"] == "满分10分比例远高于同行"
    with pytest.raises(ValueError, match="language 'fr'"):
        rule_labels("fr")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda raw: raw["rules"][1].pop("min_n"),
            r"integrity.yaml: rule fast_after_sale: missing key 'min_n'",
        ),
        (
            lambda raw: raw["rules"][0].update(test="chi_square"),
            r"rule excess_tens: test 'chi_square' is not one of",
        ),
        (
            lambda raw: raw["rules"][0]["marker"].update(nps_above=9),
            r"rule excess_tens: marker: unknown condition 'nps_above'",
        ),
        (lambda raw: raw["rules"][2]["label"].pop("zh"), r"rule low_variance: label: missing key 'zh'"),
        (lambda raw: raw.update(alpha="high"), r"integrity.yaml: alpha 'high' is not float"),
        (
            lambda raw: raw["rules"][6].update(split=1.5),
            r"rule gain_without_behaviour: split 1.5 is not between 0 and 1",
        ),
        (
            lambda raw: raw["rules"][6].pop("repeat_within_days"),
            r"rule gain_without_behaviour: missing key 'repeat_within_days'",
        ),
    ],
)
def test_config_errors_name_the_file_the_rule_and_the_key(tmp_path, edit, message):
    raw = packaged_raw()
    edit(raw)
    path = tmp_path / "integrity.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_a_rule_added_in_configuration_is_applied():
    raw = packaged_raw()
    raw["rules"].append(
        {
            "id": "nines_and_tens",
            "label": {"en": "Only 9s and 10s", "zh": "只有9分和10分"},
            "family": "scores",
            "test": "share_vs_peers",
            "marker": {"nps_at_least": 9},
            "among": {},
            "min_n": 8,
            "min_difference": 0.2,
            "min_ratio": 1.5,
        }
    )
    config = parse_config(raw)
    evidence = rule_evidence(with_gaming_store(honest_frame(), {"nps_score": 9}, 0.7), "store", config)
    hit = evidence[evidence["is_hit"] & (evidence["rule_id"] == "nines_and_tens")]
    assert set(hit["subject_id"]) == {GAMING}
