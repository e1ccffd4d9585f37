with sessions as (
    select ds, channel, count(*) as sessions
    from {{ ref('stg_sessions') }}
    group by ds, channel
),
signups as (
    select s.ds, se.channel, count(*) as signups
    from {{ ref('stg_signups') }} s
    join {{ ref('stg_sessions') }} se on se.session_id = s.session_id
    group by s.ds, se.channel
)
select se.ds, se.channel, se.sessions, coalesce(su.signups, 0) as signups, coalesce(sp.amount, 0) as spend
from sessions se
left join signups su on su.ds = se.ds and su.channel = se.channel
left join {{ ref('stg_spend') }} sp on sp.ds = se.ds and sp.channel = se.channel
