-- Several processes sharing one database: leases on feeds (who refreshes a due feed) and
-- on channels (who sends a channel's alerts). SQLite has one process, which takes the
-- same leases; the columns are here so both backends keep one contract.

-- The process refreshing the feed, its fencing token (one more at every claim: a result
-- saved with an older token is refused) and when its lease runs out (NULL: free).
ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
ALTER TABLE feeds ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN lease_until TEXT;
-- The URL's host (what follows :// up to the path): live leases are counted per host to
-- cap the requests to one host (NEWSBOT_PER_HOST_CONCURRENCY).
ALTER TABLE feeds ADD COLUMN host TEXT GENERATED ALWAYS AS (lower(
    CASE WHEN instr(substr(url, instr(url, '://') + 3), '/') > 0
    THEN substr(substr(url, instr(url, '://') + 3), 1,
                instr(substr(url, instr(url, '://') + 3), '/') - 1)
    ELSE substr(url, instr(url, '://') + 3) END)) VIRTUAL;
CREATE INDEX feeds_host_lease ON feeds (host, lease_until);

-- One process sends a channel's alerts at a time, so their order holds across processes.
CREATE TABLE channel_leases (
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    channel    TEXT NOT NULL,
    owner      TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (platform, workspace, channel)
);

-- The process that claimed the alert to send it, and until when (its channel's lease).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
