{#- One row per detractor answer of a member (NPS at most var nps_detractor_max), with or without
    a case: whether the store worked the case, whether the customer came back within 30 and 90
    days (any purchase after the answer), the days to that next visit, and the customer's next
    NPS answer and how it moved. A window that reaches past the last loaded purchase is not
    judged yet (NULL either way), so averages over the flags compare like with like. -#}
with feedback as (
    select * from {{ ref('fct_feedback_items') }}
),

cases as (
    select * from {{ ref('fct_cases') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

detractors as (
    select *
    from feedback
    where source = 'survey'
        and customer_id is not null
        and nps_score <= {{ var('nps_detractor_max') }}
),

observed as (
    select max(ordered_at) as observed_until from transactions
),

next_visits as (
    select
        detractors.feedback_key,
        min(transactions.ordered_at) as next_visit_at
    from detractors
    inner join transactions
        on detractors.customer_id = transactions.customer_id
        and transactions.ordered_at > detractors.feedback_at
    group by detractors.feedback_key
),

later_answers as (
    select
        detractors.feedback_key,
        later.nps_score,
        row_number() over (
            partition by detractors.feedback_key order by later.feedback_at, later.feedback_key
        ) as answer_rank
    from detractors
    inner join feedback as later
        on detractors.customer_id = later.customer_id
        and later.source = 'survey'
        and later.nps_score is not null
        and later.feedback_at > detractors.feedback_at
),

joined as (
    select
        detractors.feedback_key,
        detractors.survey_id,
        detractors.response_id,
        detractors.customer_id,
        detractors.member_tier,
        detractors.store_id,
        detractors.store_name,
        detractors.region_id,
        detractors.region_name,
        detractors.feedback_at,
        detractors.feedback_date,
        detractors.nps_score,
        cases.case_id,
        cases.rule_id,
        cases.status as case_status,
        cases.resolution_code,
        cases.contact_method,
        coalesce(cases.is_worked, false) as is_worked,
        cases.hours_to_acknowledge,
        cases.hours_to_resolve,
        next_visits.next_visit_at,
        later_answers.nps_score as next_nps_score,
        observed.observed_until
    from detractors
    cross join observed
    left join cases
        on detractors.feedback_key = cases.feedback_key
    left join next_visits
        on detractors.feedback_key = next_visits.feedback_key
    left join later_answers
        on detractors.feedback_key = later_answers.feedback_key
        and later_answers.answer_rank = 1
),

final as (
    select
        feedback_key,
        survey_id,
        response_id,
        customer_id,
        member_tier,
        store_id,
        store_name,
        region_id,
        region_name,
        feedback_at,
        feedback_date,
        nps_score,
        case_id,
        case_id is not null as has_case,
        rule_id,
        case_status,
        resolution_code,
        contact_method,
        is_worked,
        hours_to_acknowledge,
        hours_to_resolve,
        next_visit_at,
        {{ dbt.datediff('feedback_date', 'cast(next_visit_at as date)', 'day') }} as days_to_next_visit,
        {%- for days in [30, 90] %}
        -- judged once the whole window is loaded, so recent answers count neither way
        case
            when observed_until >= {{ dbt.dateadd('day', days, 'feedback_at') }}
                then coalesce(next_visit_at <= {{ dbt.dateadd('day', days, 'feedback_at') }}, false)
        end as is_returned_{{ days }}d,
        {%- endfor %}
        next_nps_score,
        next_nps_score - nps_score as nps_change
    from joined
)

select * from final
