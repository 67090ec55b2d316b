"""Review-site API sources: each platform's reviews of our shops pulled by last-modified time into
landing/reviews/<posted day>/, where the review loader reads them like the platforms' delivered
pages (a day's folder holds the reviews posted that day, as the files do).

One source per platform, each with its own settings from the environment:
``CXLAKE_<PLATFORM>_API_URL``, ``CXLAKE_<PLATFORM>_API_TOKEN`` and ``CXLAKE_<PLATFORM>_API_IDS``
(the platform's shop ids of our stores, comma-separated). The API lists
``GET <base>/shops/<shop_id>/reviews?modified_since=...`` answering ``{"data": [...], "links":
{"next": ...}}``; a review is ``{"review_id", "shop_id", "shop_name", "brand", "store_id", "rating",
"posted_at", "updated_at", "content", "order_id", "user_nickname"}``. Each landed page is
``{"platform", "fetched_at", ..., "reviews": [...]}``, the reviews files' own shape.
"""

from __future__ import annotations

from cxlake.sources.paged_api import ApiSource

PLATFORMS = ("dianping", "meituan")


def review_api_source(platform: str) -> ApiSource:
    return ApiSource(
        name="reviews",
        env_prefix=f"CXLAKE_{platform.upper()}_API",
        items_path="/shops/{id}/reviews",
        id_field="review_id",
        modified_field="updated_at",
        items_key="reviews",
        what="shop ids",
        platform=platform,
        day_field="posted_at",  # the review files' contract: a day's folder holds the reviews posted that day
    )
