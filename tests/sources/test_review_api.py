"""A review site's API, pulled by the same connector: pages land in landing/reviews/<posted day>/
in the review files' own shape, and the reviews ingestion loads them like delivered pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
from dagster import DagsterInstance, materialize
from loopback_api import TOKEN, recorded, write_roster

from assets.ingestion.assets import build_ingestion_assets
from assets.ingestion.review_api import REVIEW_PULL_KEYS, review_api_pulls
from cxlake.pipeline.partitions import daily_partitions
from cxlake.pipeline.resources import LandingZone, Warehouse
from cxlake.sources.paged_api import ApiSettings, Cursor, pull
from cxlake.sources.review_api import review_api_source

SHOP = "88001"
DIANPING = review_api_source("dianping")
PULL_1 = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai on the 4th
PULL_2 = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
INGESTION = {a.node_def.name: a for a in build_ingestion_assets(daily_partitions("2020-01-01"))}


def settings(api, **options) -> ApiSettings:
    return ApiSettings(api.base_url, TOKEN, (SHOP,), **{"page_size": 3, "backoff_seconds": 0.1, **options})


def ingest_reviews(landing, warehouse):
    return materialize(
        [INGESTION["ingest_reference"], INGESTION["ingest_reviews"]],
        tags={
            "dagster/asset_partition_range_start": "2026-03-03",
            "dagster/asset_partition_range_end": "2026-03-05",
        },
        resources={"landing": LandingZone(root=str(landing)), "warehouse": Warehouse(path=str(warehouse))},
    )


def rows(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_reviews_land_on_their_posted_day_in_the_review_files_shape(review_api, tmp_path):
    review_api.faults += [(2, "429"), (2, "cut")]
    pauses: list[float] = []
    result = pull(DIANPING, settings(review_api), SHOP, None, tmp_path, PULL_1, pauses.append)
    assert (result.error, result.records, result.retries) == (None, 4, 2)
    assert pauses == [2.0, 0.2]  # Retry-After 2 s, then the doubled backoff for the cut page
    assert [p.relative_to(tmp_path).as_posix() for p in result.files] == [
        "reviews/2026-03-03/dianping_88001_20260304T060000000000Z_0001.json",
        "reviews/2026-03-04/dianping_88001_20260304T060000000000Z_0001.json",
        "reviews/2026-03-04/dianping_88001_20260304T060000000000Z_0002.json",
    ]
    page = json.loads(result.files[0].read_text("utf-8"))
    assert (page["platform"], page["fetched_at"]) == ("dianping", "2026-03-04T06:00:00.000000Z")
    assert [r["review_id"] for r in page["reviews"]] == ["dp_9001", "dp_9002"]
    assert result.cursor == Cursor("2026-03-04T04:40:30.000000Z", "dp_9004")


def test_pulled_reviews_load_like_delivered_pages_and_an_edit_is_not_counted_twice(review_api, tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    write_roster(landing, "2026-03-03")
    first = pull(DIANPING, settings(review_api), SHOP, None, landing, PULL_1, lambda _: None)
    assert ingest_reviews(landing, warehouse).success
    loaded = (
        "select review_id, platform, rating, cast(_partition_date as varchar) from raw.reviews order by 1"
    )
    assert rows(warehouse, loaded) == [
        ("dp_9001", "dianping", "5", "2026-03-03"),
        ("dp_9002", "dianping", "2", "2026-03-03"),
        ("dp_9003", "dianping", "4", "2026-03-04"),
        ("dp_9004", "dianping", "3", "2026-03-04"),
    ]
    review_api.publish(SHOP, recorded("review_api", "dianping_88001_edited.json"))
    second = pull(DIANPING, settings(review_api), SHOP, first.cursor, landing, PULL_2, lambda _: None)
    assert [p.parent.name for p in second.files] == ["2026-03-03"]  # the edit lands on its posted day
    assert ingest_reviews(landing, warehouse).success
    assert rows(warehouse, "select count(*), count(distinct review_id) from raw.reviews") == [(4, 4)]
    held = "select review_id, rating, _failed_expectations from quarantine.reviews"
    assert rows(warehouse, held) == [
        ("dp_9002", "4", '["expect_column_values_to_be_in_set(review_key_repeated)"]')
    ]


def test_each_platform_has_its_own_pull_asset_settings_and_cursor(review_api, tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAKE_DIANPING_API_URL", review_api.base_url)
    monkeypatch.setenv("CXLAKE_DIANPING_API_TOKEN", TOKEN)
    monkeypatch.setenv("CXLAKE_DIANPING_API_IDS", SHOP)
    dianping = next(a for a in review_api_pulls if a.key == REVIEW_PULL_KEYS["dianping"])
    instance = DagsterInstance.ephemeral()
    resources = {"landing": LandingZone(root=str(tmp_path))}
    assert materialize([dianping], instance=instance, resources=resources).success
    metadata = instance.get_latest_materialization_event(dianping.key).asset_materialization.metadata
    assert metadata["reviews"].value == 4
    assert metadata["cursors"].value == {
        SHOP: {"modified_at": "2026-03-04T04:40:30.000000Z", "last_id": "dp_9004"}
    }
    meituan = next(a for a in review_api_pulls if a.key == REVIEW_PULL_KEYS["meituan"])
    failed = materialize([meituan], instance=instance, resources=resources, raise_on_error=False)
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    assert (
        "reviews (meituan): set CXLAKE_MEITUAN_API_URL, CXLAKE_MEITUAN_API_TOKEN, CXLAKE_MEITUAN_API_IDS"
        in str(failure.event_specific_data.error)
    )
