{#- Every survey source's responses in one shape (the Qualtrics and 问卷星 folders, exports of
    any tool in landing/surveys/, the survey API). A response delivered again in a later export
    (re-downloads happen) keeps only its latest delivery, so each response counts once. What else
    the tool recorded about the respondent (staging's metadata_json: e-mail, name, location,
    embedded data) is needed by no model and stays in raw (data minimisation, PIPL art. 6); the IP
    address only ever needs comparing, so it goes on as a keyed pseudonym (ip_pseudonym, see
    cxlake/privacy/pseudonym.py). -#}
with qualtrics as (
    select * from {{ ref('stg_qualtrics__responses') }}
),

wjx as (
    select * from {{ ref('stg_wjx__responses') }}
),

survey_files as (
    select * from {{ ref('stg_surveys__responses') }}
),

survey_api as (
    select * from {{ ref('stg_survey_api__responses') }}
),

unioned as (
    select * from qualtrics
    union all
    select * from wjx
    union all
    select * from survey_files
    union all
    select * from survey_api
),

ranked as (
    select
        *,
        row_number() over (
            partition by survey_id, response_id
            order by delivered_on desc, source_file desc, source_row desc
        ) as delivery_rank
    from unioned
),

latest as (
    select
        {{ dbt.concat(["survey_id", "':'", "response_id"]) }} as response_key,
        survey_id,
        response_id,
        source_system,
        export_layout,
        status,
        cxlake_pseudonym(ip_address) as ip_pseudonym,
        duration_in_seconds,
        submitted_at,
        started_at,
        delivered_on,
        source_file,
        source_row
    from ranked
    where delivery_rank = 1
)

select * from latest
