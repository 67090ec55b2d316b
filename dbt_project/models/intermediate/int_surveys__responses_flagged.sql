{#- Every response with its quality flags (facts, not verdicts: the countable rule in
    fct_survey_responses decides what they exclude). Definitions: models/marts/docs.md. -#}
with responses as (
    select * from {{ ref('int_surveys__responses_pivoted') }}
),

patterns as (
    select * from {{ ref('int_surveys__answer_patterns') }}
),

-- The yardstick for speeding is the survey's own pace: real (status ok) responses only, so a
-- burst of previews cannot drag it down.
survey_medians as (
    select
        survey_id,
        {{ median_of('duration_in_seconds') }} as median_duration_in_seconds
    from responses
    where status = 'ok' and duration_in_seconds is not null
    group by survey_id
),

-- The same respondent or device: the order's transaction, else (no transaction asked or
-- given) the IP address. Neither known: no respondent, never a duplicate.
respondents as (
    select
        responses.response_key,
        responses.survey_id,
        responses.status,
        responses.submitted_at,
        patterns.answer_signature,
        case
            when nullif(trim(responses.transaction_id), '') is not null
                then {{ dbt.concat(["'tx:'", "trim(responses.transaction_id)"]) }}
            when nullif(trim(responses.ip_pseudonym), '') is not null
                then {{ dbt.concat(["'ip:'", "trim(responses.ip_pseudonym)"]) }}
        end as respondent_key
    from responses
    inner join patterns
        on responses.response_key = patterns.response_key
),

-- A later submission with the same answers within 24 hours of an earlier one (of the same
-- status, so a preview never hides a customer's response) is a duplicate of the earliest.
earlier_copies as (
    select
        later.response_key,
        earlier.response_key as earlier_response_key,
        row_number() over (
            partition by later.response_key
            order by earlier.submitted_at, earlier.response_key
        ) as copy_rank
    from respondents as later
    inner join respondents as earlier
        on later.survey_id = earlier.survey_id
        and later.respondent_key = earlier.respondent_key
        and later.status = earlier.status
        and later.answer_signature = earlier.answer_signature
        and (
            earlier.submitted_at < later.submitted_at
            or (earlier.submitted_at = later.submitted_at and earlier.response_key < later.response_key)
        )
        and later.submitted_at <= {{ dbt.dateadd('hour', 24, 'earlier.submitted_at') }}
),

first_copies as (
    select * from earlier_copies where copy_rank = 1
),

flagged as (
    select
        responses.*,
        survey_medians.median_duration_in_seconds,
        patterns.count_csat_answers,
        coalesce(responses.status in ('preview', 'test'), false) as is_preview_or_test,
        coalesce(
            responses.duration_in_seconds
            < {{ var('speeder_ratio') | float }} * survey_medians.median_duration_in_seconds,
            false
        ) as is_speeder,
        patterns.count_csat_answers >= 3 and patterns.count_distinct_csat_scores = 1 as is_straight_liner,
        first_copies.earlier_response_key is not null as is_duplicate,
        first_copies.earlier_response_key as duplicate_of_response_key
    from responses
    inner join patterns
        on responses.response_key = patterns.response_key
    left join survey_medians
        on responses.survey_id = survey_medians.survey_id
    left join first_copies
        on responses.response_key = first_copies.response_key
)

select * from flagged
