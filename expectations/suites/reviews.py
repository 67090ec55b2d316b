"""raw.reviews: one row per review post fetched from a platform."""

from expectations.suites.base import (
    ID_CHARS,
    NAME_CHARS,
    RuleContext,
    TableSuite,
    already_loaded,
    id_rules,
    in_set,
    is_false,
    length_rules,
    not_null,
    numbers,
    repeated,
    text_lengths,
    timestamp_checks,
    timestamp_rules,
)

PLATFORMS = ("dianping", "meituan", "xiaohongshu")
SHORT_COLUMNS = (
    "platform",
    "review_id",
    "shop_id",
    "store_id",
    "rating",
    "posted_at",
    "order_id",
    "fetched_at",
)
NAMES = ("shop_name", "brand", "user_nickname")


def limits(context: RuleContext) -> dict[str, int]:
    return (
        dict.fromkeys(SHORT_COLUMNS, ID_CHARS)
        | dict.fromkeys(NAMES, NAME_CHARS)
        | {"content": context.max_text_length}
    )


def review_key(frame):
    return frame["platform"].fillna("") + ":" + frame["review_id"].fillna("")


REVIEW_KEY_SQL = "coalesce(platform, '') || ':' || coalesce(review_id, '')"


def derive(frame, context: RuleContext):
    frame = text_lengths(timestamp_checks(frame, "posted_at", context, "posted_at"), limits(context))
    return frame.assign(
        review_key_repeated=repeated(review_key(frame)),
        review_loaded_before=already_loaded(review_key(frame), context),
        rating_value=numbers(frame["rating"]),
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
        *id_rules("review_id", "shop_id", "store_id", "order_id"),
        *length_rules(limits(context)),
    ]


SUITE = TableSuite("reviews", derive, expectations, record_key=review_key, record_key_sql=REVIEW_KEY_SQL)
