{#- One row per app event with event_at: when it happened by the collector's clock. A phone's clock
    can be hours off, and a phone that was offline flushes its queued events hours late, so neither
    occurred_at nor received_at alone orders a device's events. An event sent live arrives seconds
    after the one before it by both clocks alike; a flushed queue arrives all at once, its events
    minutes apart by the phone's clock and milliseconds apart by the collector's. So the device's
    clock offset is the median of (occurred_at - received_at) over its live events (those whose gap
    to the previous receipt matches their gap by the phone's clock within app_clock_tolerance_seconds),
    and 0 when it has fewer than 3 (a device seen only in one flushed queue cannot tell a late
    queue from a wrong clock; its times are taken as they are). An offset within the tolerance is
    network delay, not a wrong clock. -#}
with events as (
    select * from {{ ref('stg_app_events__events') }}
),

receipt_gaps as (
    select
        *,
        {{ dbt.datediff(
            'lag(received_at) over (partition by device_id order by received_at, event_id)',
            'received_at', 'second'
        ) }} as seconds_since_previous_receipt,
        {{ dbt.datediff(
            'lag(occurred_at) over (partition by device_id order by received_at, event_id)',
            'occurred_at', 'second'
        ) }} as seconds_since_previous_occurrence
    from events
),

device_clocks as (
    select
        device_id,
        count(*) as count_live_events,
        {{ percentile_of(dbt.datediff('received_at', 'occurred_at', 'second'), 0.5) }} as median_offset_seconds
    from receipt_gaps
    where abs(seconds_since_previous_receipt - seconds_since_previous_occurrence)
        <= {{ var('app_clock_tolerance_seconds') }}
    group by device_id
),

corrected as (
    select
        events.*,
        case
            when device_clocks.count_live_events >= 3
                and abs(device_clocks.median_offset_seconds) > {{ var('app_clock_tolerance_seconds') }}
                then cast(round(device_clocks.median_offset_seconds) as {{ dbt.type_bigint() }})
            else 0
        end as clock_offset_seconds
    from events
    left join device_clocks
        on events.device_id = device_clocks.device_id
)

select
    *,
    {{ dbt.dateadd('second', '-clock_offset_seconds', 'occurred_at') }} as event_at
from corrected
