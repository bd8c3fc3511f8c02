-- Delivery: in-flight marking for exactly-once, held alerts (bursts, digests, quiet hours),
-- paused channels, and per-channel digest and quiet-hours settings (the SQLite migration
-- of the same number describes the outbox statuses).

ALTER TABLE outbox ADD COLUMN maybe_sent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE outbox ADD COLUMN in_flight_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'alert';
ALTER TABLE outbox ADD COLUMN held_reason TEXT;
ALTER TABLE outbox ADD COLUMN held_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN digest_id BIGINT;
CREATE INDEX outbox_channel ON outbox (platform, workspace, channel, status, id);
CREATE INDEX outbox_channel_sent ON outbox (platform, workspace, channel, sent_at);

CREATE TABLE channel_settings (
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    digest       TEXT,
    digest_at    TEXT,
    digest_zone  TEXT,
    quiet_start  TEXT,
    quiet_end    TEXT,
    quiet_zone   TEXT,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, workspace, channel)
);
