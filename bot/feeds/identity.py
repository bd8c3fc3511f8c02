"""A stable identity per story: guid, else canonical link, else a hash of title and date."""

from __future__ import annotations

import hashlib

MAX_ID = 512


def story_identity(guid: str, canonical_link: str, title: str, raw_date: str) -> str:
    guid = guid.strip()
    if guid:
        return guid if len(guid) <= MAX_ID else "sha1:" + _digest(guid)
    if canonical_link:
        return (
            canonical_link if len(canonical_link) <= MAX_ID else "sha1:" + _digest(canonical_link)
        )
    return "sha1:" + _digest(f"{title}\n{raw_date}")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
