"""The watcher: fetch, parse, normalise, detect new stories, match, hand to the outbox."""
