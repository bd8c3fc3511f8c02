-- Delivery: in-flight marking for exactly-once, held alerts (bursts, digests, quiet hours),
-- paused channels, and per-channel digest and quiet-hours settings.
-- outbox.status: pending -> sent; or pending -> held -> folded (into a digest row) or
-- back to pending; or paused (the platform refused the channel for good).

-- 1 once an attempt may have reached the platform (set before each send, durably), so a
-- resend after a crash asks the notifier to make sure it does not post twice.
ALTER TABLE outbox ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN in_flight_at TEXT;
-- "alert", "notice" or "digest": only alerts are held or folded into digests.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'alert';
-- Why and since when a held alert waits: "quiet", "digest" or "burst".
ALTER TABLE outbox ADD COLUMN held_reason TEXT;
ALTER TABLE outbox ADD COLUMN held_at TEXT;
-- For status "folded": the digest row that carries this alert.
ALTER TABLE outbox ADD COLUMN digest_id INTEGER;
CREATE INDEX outbox_channel ON outbox (platform, workspace, channel, status, id);
CREATE INDEX outbox_channel_sent ON outbox (platform, workspace, channel, sent_at);

CREATE TABLE channel_settings (
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    digest       TEXT,            -- NULL: off, else "hourly" or "daily"
    digest_at    TEXT,            -- "HH:MM" local, for daily digests
    digest_zone  TEXT,            -- IANA name
    quiet_start  TEXT,            -- "HH:MM" local, NULL: no quiet hours
    quiet_end    TEXT,
    quiet_zone   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (platform, workspace, channel)
);
