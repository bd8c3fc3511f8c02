-- Snooze, threads, and follow-up edits of alerts already sent (issue 17). Personal alerts need no
-- table: a person's direct messages are a channel of their own ("dm:<user id>").

-- Until when the channel (or a person's DMs) is snoozed: alerts are held until then and
-- go out as one digest. ISO-8601 UTC text; NULL or a past time: not snoozed.
ALTER TABLE channel_settings ADD COLUMN snooze_until TEXT;
-- `/news threads on`: a story's later developments go in a thread under its first alert
-- ("on"; NULL: off, the default).
ALTER TABLE channel_settings ADD COLUMN threads TEXT;

-- A sent alert whose story then came from other outlets is edited to list them: when the
-- next edit may go (at most one a minute per alert), NULL when none is owed; and when it
-- was last edited.
ALTER TABLE outbox ADD COLUMN edit_due_at TEXT;
ALTER TABLE outbox ADD COLUMN edited_at TEXT;
CREATE INDEX outbox_edit_due ON outbox (edit_due_at) WHERE edit_due_at IS NOT NULL;
