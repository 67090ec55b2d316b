{#- One row per staff member x touchpoint of the journey map: the CSAT of the touchpoints in the
    answers about orders they served (the POS row's staff_id), over the whole loaded range, and the
    praise and complaints that name them. Countable ratings only, and not those the survey-integrity
    asset marks as suspect (a solicited 5 flatters the one who solicited it): those are counted
    apart. Below min_responses ratings the mean, its interval and the top-2-box share are left
    empty: a score of a handful of answers is noise, and a table that holds it gets ranked. -#}
with staff as (
    select * from {{ ref('dim_staff') }}
),

touchpoints as (
    select * from {{ ref('dim_touchpoint') }}
),

ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
    where is_countable
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

mentions as (
    select * from {{ ref('fct_staff_mentions') }}
),

served_ratings as (
    select
        transactions.staff_id,
        ratings.touchpoint_id,
        {{ in_scale('ratings.csat_score', 'csat') }} as csat_score,
        ratings.is_top_box,
        coalesce(responses.is_suspect, false) as is_suspect
    from ratings
    inner join responses
        on ratings.response_key = responses.response_key
    inner join transactions
        on responses.transaction_id = transactions.transaction_id
),

rating_counts as (
    select
        staff_id,
        touchpoint_id,
        count(case when not is_suspect then csat_score end) as n_ratings,
        count(case when not is_suspect and is_top_box then csat_score end) as count_top_box,
        avg(case when not is_suspect then csat_score end) as avg_csat,
        {{ dbt.safe_cast('stddev_samp(case when not is_suspect then csat_score end)', dbt.type_float()) }}
            as stddev_csat,
        count(case when is_suspect then csat_score end) as n_suspect_ratings
    from served_ratings
    group by staff_id, touchpoint_id
),

mention_counts as (
    select
        staff_id,
        count(case when is_praise then 1 end) as praise_mentions,
        count(case when is_complaint then 1 end) as complaint_mentions,
        count(*) as all_mentions
    from mentions
    group by staff_id
),

staff_suspects as (
    select staff_id, sum(n_suspect_ratings) > 0 as has_suspect_answers
    from rating_counts
    group by staff_id
),

grid as (
    select
        staff.staff_id,
        staff.staff_name,
        staff.staff_role,
        staff.store_id,
        staff.region_id,
        touchpoints.touchpoint_id,
        coalesce(rating_counts.n_ratings, 0) as n_ratings,
        coalesce(rating_counts.count_top_box, 0) as count_top_box,
        rating_counts.avg_csat,
        rating_counts.stddev_csat,
        coalesce(rating_counts.n_suspect_ratings, 0) as n_suspect_ratings
    from staff
    cross join touchpoints
    left join rating_counts
        on staff.staff_id = rating_counts.staff_id
        and touchpoints.touchpoint_id = rating_counts.touchpoint_id
),

final as (
    select
        grid.staff_id,
        grid.staff_name,
        grid.staff_role,
        grid.store_id,
        grid.region_id,
        grid.touchpoint_id,
        grid.n_ratings,
        {{ is_reportable('grid.n_ratings') }} as is_reportable,
        case when {{ is_reportable('grid.n_ratings') }} then round(grid.avg_csat, 6) end as csat_mean,
        case when {{ is_reportable('grid.n_ratings') }} then round(greatest(
            {{ var('csat_scale_min') }},
            grid.avg_csat - {{ var('nps_confidence_z') }} * grid.stddev_csat / sqrt(grid.n_ratings)
        ), 6) end as ci_low,
        case when {{ is_reportable('grid.n_ratings') }} then round(least(
            {{ var('csat_scale_max') }},
            grid.avg_csat + {{ var('nps_confidence_z') }} * grid.stddev_csat / sqrt(grid.n_ratings)
        ), 6) end as ci_high,
        case when {{ is_reportable('grid.n_ratings') }}
            then {{ share_of('grid.count_top_box', 'grid.n_ratings') }} end as top2_share,
        grid.n_suspect_ratings,
        coalesce(staff_suspects.has_suspect_answers, false) as has_suspect_answers,
        coalesce(mention_counts.praise_mentions, 0) as praise_mentions,
        coalesce(mention_counts.complaint_mentions, 0) as complaint_mentions,
        coalesce(mention_counts.all_mentions, 0) as all_mentions
    from grid
    left join staff_suspects
        on grid.staff_id = staff_suspects.staff_id
    left join mention_counts
        on grid.staff_id = mention_counts.staff_id
)

select * from final
