{#- Helpers of the incremental survey chain (int_surveys__answers_scored, _responses_pivoted,
    _answer_patterns): each row carries the delivery and the survey mapping it was built from, so
    a run re-processes the responses whose stamp differs (a redelivery, a changed mapping). -#}

{#- One value for the survey mapping (questions, answer scores, constants): a changed mapping
    gives every written row another value, so old answers are scored again. A select of one row. -#}
{% macro survey_mapping_checksum() -%}
    select {{ dbt.hash(dbt.listagg("mapping_row", "';'", "order by mapping_row")) }} as survey_mapping_checksum
    from (
        select {{ dbt.concat([
            "'question|'", "survey_id", "'|'", "question_id", "'|'",
            "coalesce(question_role, '')", "'|'", "coalesce(touchpoint_id, '')"
        ]) }} as mapping_row
        from {{ ref('stg_configuration__survey_questions') }}
        union all
        select {{ dbt.concat([
            "'score|'", "survey_id", "'|'", "question_role", "'|'", "answer_text", "'|'",
            "cast(score as " ~ dbt.type_string() ~ ")"
        ]) }} as mapping_row
        from {{ ref('stg_configuration__survey_answer_scores') }}
        union all
        select {{ dbt.concat([
            "'constant|'", "survey_id", "'|'", "question_role", "'|'", "constant_value"
        ]) }} as mapping_row
        from {{ ref('stg_configuration__survey_constants') }}
    ) as mapping_rows
{%- endmacro %}

{#- Response keys an incremental run re-processes: those delivered in the run's days, and every
    response whose (delivered_on, survey_mapping_checksum) no stamp of `written` matches (new, its
    latest delivery changed, or the mapping changed). `stamps` holds response_key, delivered_on and
    survey_mapping_checksum as they are now. A table written before rows carried their stamp is
    processed whole. -#}
{% macro survey_responses_to_process(stamps, written) -%}
    {%- set written_columns = adapter.get_columns_in_relation(written) | map(attribute='name') | list -%}
    select stamps.response_key
    from {{ stamps }} as stamps
    {%- if 'delivered_on' in written_columns and 'survey_mapping_checksum' in written_columns %}
    where {{ in_run_window('stamps.delivered_on') }}
        or not exists (
            select 1
            from {{ written }} as written
            where written.response_key = stamps.response_key
                and written.delivered_on = stamps.delivered_on
                and written.survey_mapping_checksum = stamps.survey_mapping_checksum
        )
    {%- endif %}
{%- endmacro %}

{#- The CTEs a survey model reads in a run: `inputs` maps each CTE to define to the relation it
    narrows (a CTE name), in order. An incremental run keeps the rows of the responses
    `survey_responses_to_process` picks from `stamps` (a `responses_to_process` CTE comes first);
    a full build keeps every row. Ends with a comma, as a CTE list goes on after it. -#}
{% macro survey_ctes_in_run(stamps, inputs) -%}
    {%- if is_incremental() %}
responses_to_process as (
    {{ survey_responses_to_process(stamps, this) }}
),
        {%- for name, relation in inputs.items() %}

{{ name }} as (
    select {{ relation }}.*
    from {{ relation }}
    inner join responses_to_process
        on {{ relation }}.response_key = responses_to_process.response_key
),
        {%- endfor %}
    {%- else %}
        {%- for name, relation in inputs.items() %}

{{ name }} as (
    select * from {{ relation }}
),
        {%- endfor %}
    {%- endif %}
{%- endmacro %}
