-- Snooze, threads, and follow-up edits of alerts already sent (issue 17; the SQLite
-- migration of the same number says more).

ALTER TABLE channel_settings ADD COLUMN snooze_until TEXT;
ALTER TABLE channel_settings ADD COLUMN threads TEXT;

ALTER TABLE outbox ADD COLUMN edit_due_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN edited_at TIMESTAMPTZ;
CREATE INDEX outbox_edit_due ON outbox (edit_due_at) WHERE edit_due_at IS NOT NULL;
