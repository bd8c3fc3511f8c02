-- Enriched alerts (issue 16): the article behind a link, read once per URL; what is known
-- of a story per language (its detected language, a model's summary, a translated title),
-- asked once and shared by every channel; model calls counted per UTC day for the cap;
-- and each channel's summary mode and language.

CREATE TABLE article_cache (
    url         TEXT PRIMARY KEY,
    text        TEXT,
    note        TEXT NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE story_facts (
    feed_id     BIGINT NOT NULL,
    story_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    language    TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed_id, story_id, kind, language)
);

CREATE TABLE model_calls (
    day    DATE PRIMARY KEY,
    calls  INTEGER NOT NULL
);

ALTER TABLE channel_settings ADD COLUMN summary_mode TEXT;
ALTER TABLE channel_settings ADD COLUMN language TEXT;
