-- Sessions by the local day they started.
select session_id, visitor_id, lower(channel) as channel, ds
from {{ source('mkt', 'sessions') }}
