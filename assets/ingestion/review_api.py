"""The review sites' pull assets: one per platform (cxlake.sources.review_api), each keeping its
shops' cursors in Dagster. What they land in landing/reviews/<day>/ is read by the reviews
ingestion asset like any delivered review page."""

from dagster import AssetKey

from assets.ingestion.api_pull import build_api_pull_asset
from cxlake.sources.review_api import PLATFORMS, review_api_source

REVIEW_PULL_KEYS = {platform: AssetKey(["landing", f"reviews_{platform}"]) for platform in PLATFORMS}
review_api_pulls = [
    build_api_pull_asset(review_api_source(platform), REVIEW_PULL_KEYS[platform], "reviews")
    for platform in PLATFORMS
]
