-- Enriched alerts (issue 16): the article behind a link, read once per URL; what is known
-- of a story per language (its detected language, a model's summary, a translated title),
-- asked once and shared by every channel; model calls counted per UTC day for the cap;
-- and each channel's summary mode and language.

CREATE TABLE article_cache (
    url         TEXT PRIMARY KEY,
    text        TEXT,            -- NULL: nothing usable (failed, refused, consent wall)
    note        TEXT NOT NULL,   -- "ok", or why there is no text
    fetched_at  TEXT NOT NULL
);

CREATE TABLE story_facts (
    feed_id     INTEGER NOT NULL,
    story_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,   -- "language", "summary" or "title"
    language    TEXT NOT NULL,   -- "" for kind "language"
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (feed_id, story_id, kind, language)
);

CREATE TABLE model_calls (
    day    TEXT PRIMARY KEY,     -- YYYY-MM-DD, UTC
    calls  INTEGER NOT NULL
);

ALTER TABLE channel_settings ADD COLUMN summary_mode TEXT;  -- NULL: "article"
ALTER TABLE channel_settings ADD COLUMN language TEXT;      -- NULL: no translation
