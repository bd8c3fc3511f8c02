"""Which language a story is written in, offline, with py3langid.

py3langid (a maintained fork of langid.py) ships its model in the package: no download,
about 0.5 s to load once, well under a millisecond per story. Headlines are short, so it
reads the title and the feed text together, chooses among the languages news feeds are
commonly written in (a short English headline otherwise passes for Nigerian Pidgin), and
says nothing when unsure: an unsure story is not translated.
"""

from __future__ import annotations

import threading
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

COMMON = (  # noqa: SIM905 (a list of 41 codes reads better as one string)
    "ar bg bn ca cs da de el en es et fa fi fr he hi hr hu id it ja ko lt lv ms nl no pl pt"
    " ro ru sk sl sr sv th tr uk ur vi zh"
).split()
MIN_CONFIDENCE = 0.5

_lock = threading.Lock()
_identifier: Any = None


def _loaded() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(COMMON)
            _identifier = identifier
        return _identifier


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when the detector is unsure.

    CPU-bound (and the first call loads the model): call it in a worker thread.
    """
    text = " ".join(text.split())[:1000]
    if len(text) < 12:
        return None
    language, confidence = _loaded().classify(text)
    return str(language) if float(confidence) >= MIN_CONFIDENCE else None
