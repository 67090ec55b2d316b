{#- One row per store x channel x response day: NPS counts of countable responses with their NPS
    and adjusted-Wald interval. Roll up by summing the counts and applying nps_from_counts again,
    never by averaging nps. -#}
with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

counts as (
    select
        response_date as date_day,
        store_id,
        region_id,
        channel,
        cast(sum(case when nps_category = 'promoter' then 1 else 0 end) as {{ dbt.type_bigint() }}) as promoters,
        cast(sum(case when nps_category = 'passive' then 1 else 0 end) as {{ dbt.type_bigint() }}) as passives,
        cast(sum(case when nps_category = 'detractor' then 1 else 0 end) as {{ dbt.type_bigint() }}) as detractors,
        count({{ in_scale('ces_score', 'ces') }}) as count_ces,
        avg({{ in_scale('ces_score', 'ces') }}) as avg_ces
    from responses
    where is_countable
    group by response_date, store_id, region_id, channel
),

final as (
    select
        date_day,
        store_id,
        region_id,
        channel,
        promoters,
        passives,
        detractors,
        promoters + passives + detractors as count_responses,
        {{ nps_from_counts('promoters', 'passives', 'detractors') }} as nps,
        {{ nps_ci_low('promoters', 'passives', 'detractors') }} as nps_ci_low,
        {{ nps_ci_high('promoters', 'passives', 'detractors') }} as nps_ci_high,
        {{ is_reportable('promoters + passives + detractors') }} as is_reportable,
        count_ces,
        round(avg_ces, 6) as avg_ces
    from counts
)

select * from final
