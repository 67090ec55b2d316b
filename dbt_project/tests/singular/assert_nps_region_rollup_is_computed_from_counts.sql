{{ config(meta={'dagster': {'ref': {'name': 'fct_nps_daily'}}}) }}
-- Returns a region x day whose NPS, rolled up from fct_nps_daily's counts with the one NPS
-- definition, differs from the NPS computed directly over its countable responses.
with daily as (
    select * from {{ ref('fct_nps_daily') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

rolled_up as (
    select
        region_id,
        date_day,
        sum(promoters) as promoters,
        sum(passives) as passives,
        sum(detractors) as detractors
    from daily
    group by region_id, date_day
),

direct as (
    select
        region_id,
        response_date as date_day,
        sum(case when nps_category = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_category = 'passive' then 1 else 0 end) as passives,
        sum(case when nps_category = 'detractor' then 1 else 0 end) as detractors
    from responses
    where is_countable
    group by region_id, response_date
)

select
    rolled_up.region_id,
    rolled_up.date_day
from rolled_up
full outer join direct
    on rolled_up.region_id = direct.region_id
    and rolled_up.date_day = direct.date_day
where coalesce({{ nps_from_counts('rolled_up.promoters', 'rolled_up.passives', 'rolled_up.detractors') }}, -999)
    <> coalesce({{ nps_from_counts('direct.promoters', 'direct.passives', 'direct.detractors') }}, -999)
