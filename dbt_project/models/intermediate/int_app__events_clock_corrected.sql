{#- One row per app event with event_at: when it happened by the collector's clock. A phone's clock
    can be hours off, and an offline phone sends its events hours late, so neither occurred_at nor
    received_at alone orders a device's events. Most of a device's events arrive within seconds, so
    the median of (occurred_at - received_at) over the device's events is its clock's offset; a late
    batch does not move a median. An offset within app_clock_tolerance_seconds is network delay,
    not a wrong clock, and is left alone. -#}
with events as (
    select * from {{ ref('stg_app_events__events') }}
),

device_clocks as (
    select
        device_id,
        {{ percentile_of(dbt.datediff('received_at', 'occurred_at', 'second'), 0.5) }} as median_offset_seconds
    from events
    group by device_id
),

corrected as (
    select
        events.*,
        case
            when abs(device_clocks.median_offset_seconds) > {{ var('app_clock_tolerance_seconds') }}
                then cast(round(device_clocks.median_offset_seconds) as {{ dbt.type_bigint() }})
            else 0
        end as clock_offset_seconds
    from events
    inner join device_clocks
        on events.device_id = device_clocks.device_id
)

select
    *,
    {{ dbt.dateadd('second', '-clock_offset_seconds', 'occurred_at') }} as event_at
from corrected
