-- Feed health and scheduling, which channels use a feed, and cross-feed duplicates
-- (the SQLite migration of the same number says what each column is for).

ALTER TABLE feeds ADD COLUMN paused_at TIMESTAMPTZ;
ALTER TABLE feeds ADD COLUMN content_hash TEXT;
ALTER TABLE feeds ADD COLUMN ttl_seconds INTEGER NOT NULL DEFAULT 0;

CREATE TABLE feed_channels (
    feed_id   BIGINT NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    added_by  TEXT,
    added_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed_id, platform, workspace, channel)
);
CREATE INDEX feed_channels_channel ON feed_channels (platform, workspace, channel);

CREATE INDEX stories_feed_seen ON stories (feed_id, first_seen_at);

CREATE TABLE story_duplicates (
    feed_id           BIGINT NOT NULL,
    story_id          TEXT NOT NULL,
    original_feed_id  BIGINT NOT NULL,
    original_story_id TEXT NOT NULL,
    source            TEXT NOT NULL,
    seen_at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed_id, story_id)
);
CREATE INDEX story_duplicates_original ON story_duplicates (original_feed_id, original_story_id);
