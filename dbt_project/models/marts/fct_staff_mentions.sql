{#- One row per survey comment x staff member it names: customers write the name on the badge
    (王伟芳), the given name (伟芳) or 小 + surname (小王). A name is looked for only among the
    staff of the store the response is about. A form that fits more than one of them (two 王 make
    小王 ambiguous) is the serving staff member's when it fits them, else nobody's: a mention is
    never guessed. The comment's staff aspect (the text model's) says praise or complaint; without
    one, the comment's overall sentiment does. Previews, tests and duplicates are left out, as in
    fct_feedback_items. Words that hold 小 + a surname but name nobody (小程序 is the mini-program,
    程 a surname) are blanked before matching. -#}
{%- set not_names = ['小程序', '小龙虾', '小白菜', '小毛病', '小黄车', '小金库', '小方块', '小钱', '小石子'] %}
with responses as (
    select
        *,
        {% for word in not_names %}replace({% endfor %}comment
        {%- for word in not_names %}, '{{ word }}', '○'){% endfor %} as searched_text
    from {{ ref('fct_survey_responses') }}
    where not is_preview_or_test
        and not is_duplicate
        and comment is not null
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

staff as (
    select * from {{ ref('dim_staff') }}
),

-- The written forms of each name (single-character surnames, as on the roster).
name_forms as (
    select staff_id, store_id, staff_name as written_as from staff
    union all
    select staff_id, store_id, substring(staff_name, 2, 2) as written_as
    from staff
    where {{ dbt.length('staff_name') }} = 3
    union all
    select staff_id, store_id, {{ dbt.concat(["'小'", "substring(staff_name, 1, 1)"]) }} as written_as
    from staff
    where {{ dbt.length('staff_name') }} >= 2
),

matches as (
    select
        responses.response_key,
        name_forms.staff_id,
        name_forms.written_as,
        transactions.staff_id as served_by
    from responses
    inner join name_forms
        on responses.store_id = name_forms.store_id
        and {{ dbt.position('name_forms.written_as', 'responses.searched_text') }} > 0
    left join transactions
        on responses.transaction_id = transactions.transaction_id
),

fitting as (
    select
        *,
        count(*) over (partition by response_key, written_as) as count_staff_fitting
    from matches
),

attributed as (
    select distinct
        response_key,
        staff_id,
        staff_id = served_by as is_serving_staff
    from fitting
    where count_staff_fitting = 1 or staff_id = served_by
),

final as (
    select
        attributed.response_key,
        attributed.staff_id,
        responses.survey_id,
        responses.response_id,
        responses.store_id,
        responses.region_id,
        responses.channel,
        responses.responded_at,
        responses.response_date,
        coalesce(attributed.is_serving_staff, false) as is_serving_staff,
        responses.comment,
        case
            when {{ dbt.position("'staff:positive'", 'responses.comment_aspects') }} > 0 then 'positive'
            when {{ dbt.position("'staff:negative'", 'responses.comment_aspects') }} > 0 then 'negative'
            when responses.comment_sentiment_label in ('positive', 'negative')
                and {{ dbt.position("'staff:'", "coalesce(responses.comment_aspects, '')") }} = 0
                then responses.comment_sentiment_label
            else 'neutral'
        end as mention_sentiment,
        responses.is_countable,
        coalesce(responses.is_suspect, false) as is_suspect
    from attributed
    inner join responses
        on attributed.response_key = responses.response_key
)

select
    *,
    mention_sentiment = 'positive' as is_praise,
    mention_sentiment = 'negative' as is_complaint
from final
