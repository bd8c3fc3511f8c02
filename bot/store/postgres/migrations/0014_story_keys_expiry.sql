-- Identity keys matter only within the duplicate window, while seen stories are kept for
-- months: keys older than the window are dropped a batch at a time, found by this index.
CREATE INDEX story_keys_seen ON story_keys (seen_at);
