-- The walking skeleton: feeds, the seen-story set, subscriptions and the alert outbox.
-- Times are UTC text from bot.store.database.to_db_time (sortable).

CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL UNIQUE,
    title           TEXT,
    trusted         INTEGER NOT NULL DEFAULT 0,
    added_by        TEXT,
    added_at        TEXT NOT NULL,
    etag            TEXT,
    last_modified   TEXT,
    primed          INTEGER NOT NULL DEFAULT 0,
    next_check_at   TEXT NOT NULL,
    last_checked_at TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   TEXT,
    last_error      TEXT,
    paused          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feeds_due ON feeds (paused, next_check_at);

CREATE TABLE stories (
    feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    story_id      TEXT NOT NULL,
    title         TEXT NOT NULL,
    link          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    source        TEXT NOT NULL,
    image         TEXT,
    published     TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, story_id)
);
CREATE INDEX stories_first_seen ON stories (first_seen_at);

CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    mention     TEXT,
    paused_reason TEXT
);
CREATE INDEX subscriptions_channel ON subscriptions (platform, workspace, channel);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,
    workspace       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    feed_id         INTEGER NOT NULL,
    story_id        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    remote_id       TEXT,
    UNIQUE (platform, workspace, channel, feed_id, story_id)
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at, id);
