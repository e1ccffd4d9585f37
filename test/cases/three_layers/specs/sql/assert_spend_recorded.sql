select c.channel
from (select distinct channel from {{ ref('stg_sessions') }} where ds = '{{ var("ds") }}') c
left join {{ ref('stg_spend') }} s on s.channel = c.channel and s.ds = '{{ var("ds") }}'
where s.channel is null
