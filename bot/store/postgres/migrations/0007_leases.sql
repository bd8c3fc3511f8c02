-- Several processes sharing one database: leases on feeds and on channels (the SQLite
-- migration of the same number says what each column is for).

ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
ALTER TABLE feeds ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN lease_until TIMESTAMPTZ;
-- The same cut as SQLite's: what follows :// up to the first /, lower case.
ALTER TABLE feeds ADD COLUMN host TEXT GENERATED ALWAYS AS
    (lower(split_part(split_part(url, '://', 2), '/', 1))) STORED;
CREATE INDEX feeds_host_lease ON feeds (host, lease_until);

CREATE TABLE channel_leases (
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL,
    channel    TEXT NOT NULL,
    owner      TEXT NOT NULL,
    token      BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, workspace, channel)
);

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMPTZ;
