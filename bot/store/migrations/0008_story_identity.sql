-- One story, one alert, whichever process parses it: the keys that make two stories the
-- same one (a hash of the canonical link; one of the title's word set), each owned by
-- the first story recorded with it. A story whose key is already another's is a copy:
-- the unique key decides, not a process's memory. A key older than the duplicate window
-- is taken over by the next story that has it.
CREATE TABLE story_keys (
    key      TEXT PRIMARY KEY,
    feed_id  INTEGER NOT NULL,
    story_id TEXT NOT NULL,
    seen_at  TEXT NOT NULL,
    FOREIGN KEY (feed_id, story_id) REFERENCES stories (feed_id, story_id) ON DELETE CASCADE
);
CREATE INDEX story_keys_story ON story_keys (feed_id, story_id);
