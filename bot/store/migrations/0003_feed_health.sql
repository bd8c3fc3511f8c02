-- Feed health and scheduling, which channels use a feed, and cross-feed duplicates.

-- When the feed was paused after too many consecutive failures (NULL: not paused).
ALTER TABLE feeds ADD COLUMN paused_at TEXT;
-- A hash of the last body parsed: a 200 with the same bytes (a server without
-- validators) costs no parsing.
ALTER TABLE feeds ADD COLUMN content_hash TEXT;
-- The feed's own <ttl> in seconds, last time it was parsed (0: none): a 304 says nothing
-- about it, and the next check still honours it.
ALTER TABLE feeds ADD COLUMN ttl_seconds INTEGER NOT NULL DEFAULT 0;

-- Channels that added a feed with `/news feed add`. Operator feeds are used by every
-- channel with subscriptions and need no rows here.
CREATE TABLE feed_channels (
    feed_id   INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    added_by  TEXT,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (feed_id, platform, workspace, channel)
);
CREATE INDEX feed_channels_channel ON feed_channels (platform, workspace, channel);

-- The seen set is bounded per feed: pruning keeps the newest ids of each feed.
CREATE INDEX stories_feed_seen ON stories (feed_id, first_seen_at);

-- A story that an earlier story of another feed (or of the same one) already carried:
-- recorded, alerted at most once per channel, shown as "also reported by".
CREATE TABLE story_duplicates (
    feed_id           INTEGER NOT NULL,
    story_id          TEXT NOT NULL,
    original_feed_id  INTEGER NOT NULL,
    original_story_id TEXT NOT NULL,
    source            TEXT NOT NULL,
    seen_at           TEXT NOT NULL,
    PRIMARY KEY (feed_id, story_id)
);
CREATE INDEX story_duplicates_original ON story_duplicates (original_feed_id, original_story_id);
