"""raw.reviews: one row per review post fetched from a platform."""

from expectations.suites.base import (
    RuleContext,
    TableSuite,
    already_loaded,
    between,
    in_set,
    is_false,
    not_null,
    numbers,
    repeated,
    text_length,
    timestamp_checks,
    timestamp_rules,
)

PLATFORMS = ("dianping", "meituan", "xiaohongshu")


def review_key(frame):
    return frame["platform"].fillna("") + ":" + frame["review_id"].fillna("")


def derive(frame, context: RuleContext):
    frame = timestamp_checks(frame, "posted_at", context, "posted_at")
    return frame.assign(
        review_key_repeated=repeated(review_key(frame)),
        review_loaded_before=already_loaded(review_key(frame), context),
        rating_value=numbers(frame["rating"]),
        content_length=text_length(frame["content"]),
    )


def expectations(context: RuleContext) -> list:
    return [
        not_null("review_id", "review_id is present"),
        is_false("review_key_repeated", "platform + review_id is unique (first kept)"),
        is_false("review_loaded_before", "the review was not loaded from another day"),
        in_set("platform", PLATFORMS, "platform is dianping, meituan or xiaohongshu"),
        not_null("brand", "brand is present"),
        in_set("store_id", context.store_ids, "store_id (our stores) is in the roster"),
        not_null("rating_value", "rating is a number"),
        in_set("rating_value", (1, 2, 3, 4, 5), "rating is 1-5 stars"),
        *timestamp_rules("posted_at", "posted_at"),
        between(
            "content_length",
            0,
            context.max_text_length,
            f"content is at most {context.max_text_length} chars",
        ),
    ]


SUITE = TableSuite("reviews", derive, expectations, record_key=review_key)
