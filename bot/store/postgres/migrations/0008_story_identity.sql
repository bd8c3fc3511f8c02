-- One story, one alert, whichever process parses it (the SQLite migration of the same
-- number says how story_keys work); and a notification to every process when the
-- subscriptions or channel settings change, so their in-memory copies follow at once.

CREATE TABLE story_keys (
    key      TEXT PRIMARY KEY,
    feed_id  BIGINT NOT NULL,
    story_id TEXT NOT NULL,
    seen_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (feed_id, story_id) REFERENCES stories (feed_id, story_id) ON DELETE CASCADE
);
CREATE INDEX story_keys_story ON story_keys (feed_id, story_id);

-- Sent at commit, once per transaction and table; the payload names the schema, as one
-- database may hold several installs (the tests' schemas) on one channel.
CREATE FUNCTION newsbot_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('newsbot_changes', current_schema() || ' ' || TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER subscriptions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON subscriptions FOR EACH STATEMENT EXECUTE FUNCTION newsbot_notify_change();
CREATE TRIGGER channel_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON channel_settings FOR EACH STATEMENT EXECUTE FUNCTION newsbot_notify_change();
