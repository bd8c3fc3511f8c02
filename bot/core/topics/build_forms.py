"""Grammatical forms of the topic pack's names, for the builder (bot.core.topics.build).

Russian and Ukrainian through `pymorphy3`, the other inflected languages through
`simplemma`'s lemma tables read backwards, English through the query language's own rules;
Turkish case endings and Arabic prefixes are added as written. Imported only when the pack is
rebuilt: the bot never loads these packages (see build.py).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.core.query.inflect import inflects, word_forms
from bot.core.query.text import WORD_RE, normalise

SIMPLEMMA = ("de", "fr", "es", "pt", "it", "pl", "nl", "el")  # tr: its table yields names (Ruslan)
# Turkish writes case endings after an apostrophe (Rusya'nın); Arabic attaches
# conjunctions and prepositions in front (وروسيا).
_TR_SUFFIXES = (
    "nın", "nin", "nun", "nün", "ın", "in", "un", "ün", "ya", "ye", "a", "e", "yı", "yi",
    "ı", "i", "da", "de", "ta", "te", "dan", "den", "tan", "ten", "ya", "yla", "yle", "la", "le",
)  # fmt: skip
_AR_PREFIXES = ("و", "ب", "ل", "ف", "وب", "ول", "لل")


def normalise_name(name: str) -> str:
    return " ".join(normalise(w) for w in WORD_RE.findall(name))


class NameForms:
    """Grammatical forms of names, per language, from the dictionaries."""

    def __init__(self) -> None:
        import pymorphy3  # type: ignore[import-untyped]

        self._morph = {
            "ru": pymorphy3.MorphAnalyzer(lang="ru"),
            "uk": pymorphy3.MorphAnalyzer(lang="uk"),
        }
        self._lemmas: dict[str, dict[str, set[str]]] = {}
        self._dicts: dict[str, Any] = {}

    def of(self, label: str, lang: str) -> set[str]:
        words = [normalise(w) for w in WORD_RE.findall(label)]
        raw = WORD_RE.findall(label)
        if not words:
            return set()
        out = {" ".join(words)}
        if lang in self._morph:
            out |= self._slavic(raw, lang)
        elif lang in SIMPLEMMA and len(words) == 1:
            out |= {normalise(f) for f in self._reversed(lang).get(words[0], ())}
        if lang == "de" or lang == "nl":
            out.add(" ".join([*words[:-1], words[-1] + "s"]))
        if lang == "tr":
            out |= {" ".join([*words[:-1], f"{words[-1]}'{s}"]) for s in _TR_SUFFIXES}
        if lang in ("ar", "xx") and len(words) == 1 and not words[0].isascii():
            out |= {p + words[0] for p in _AR_PREFIXES if script_of(words[0]) == "ARABIC"}
        # English forms of the last word (Russia's, Russian, Russians); the Romance
        # languages' plurals take -s as well.
        romance = lang in ("xx", "fr", "es", "pt", "it") and len(words) == 1
        # Not a letter of an acronym (`U.S.A.` -> `u s as` would make `as` a trigger).
        if (lang == "en" or romance) and inflects(words[-1]) and len(words[-1]) >= 3:
            last = word_forms(words[-1]) if lang == "en" else {words[-1] + "s"}
            out |= {" ".join([*words[:-1], f]) for f in last}
        # Suffixes and prefixes were added as written (Rusya'nün): compare as stories do.
        return {n for v in out if (n := normalise_name(v))}

    def _slavic(self, raw: list[str], lang: str) -> set[str]:
        morph = self._morph[lang]
        parses = [_best_parse(morph, w) for w in raw]
        out: set[str] = set()
        if len(raw) == 1:
            p = parses[0]
            if p is not None:
                out |= {normalise(f.word) for f in p.lexeme}
            return out
        # A phrase: its words agree in case and number (Российская Федерация ->
        # Российской Федерации), so each case is made for all of them at once.
        for case in ("nomn", "gent", "datv", "accs", "ablt", "loct"):
            for number in ("sing", "plur"):
                words = []
                for w, p in zip(raw, parses, strict=True):
                    made = p.inflect({case, number}) if p is not None else None
                    words.append(normalise(made.word if made is not None else w))
                out.add(" ".join(words))
        return out

    def _reversed(self, lang: str) -> dict[str, set[str]]:
        """lemma (normal form) -> its forms, from simplemma's table for `lang`."""
        table = self._lemmas.get(lang)
        if table is None:
            table = {}
            for form, lemma in self._dictionary(lang).items():
                if isinstance(lemma, bytes):
                    lemma = lemma.decode()
                if isinstance(form, bytes):
                    form = form.decode()
                table.setdefault(normalise(lemma), set()).add(form)
            self._lemmas[lang] = table
        return table

    def _dictionary(self, lang: str) -> Any:
        if lang not in self._dicts:
            from simplemma.strategies.dictionaries import DefaultDictionaryFactory

            self._dicts[lang] = DefaultDictionaryFactory().get_dictionary(lang)
        return self._dicts[lang]

    def is_common_word(self, label: str, lang: str) -> bool:
        """Whether a one-word Latin name is also a lower-case word of a pack language
        (`turkey`, `jersey`, `peru` in Portuguese): it then counts only capitalised."""
        if not label.isascii() or not label[:1].isupper():
            return False
        low = label.lower()
        for other in ("en", "fr", "es", "pt", "it", "pl", "nl"):
            try:
                if low in self._dictionary(other):
                    return True
            except (KeyError, ValueError):
                continue
        return False


def _best_parse(morph: Any, word: str) -> Any:
    """The parse of a name: a surname, first name or place where the dictionary has one
    (`Песков` is also the genitive plural of `песок`), else one whose normal form is the
    word itself, else none (the word is kept as written)."""
    parses = morph.parse(word)
    low = word.lower()
    for tag in ("Surn", "Geox", "Name", "Orgn"):
        for p in parses:
            if tag in p.tag.grammemes and p.normal_form == low:
                return p
    for p in parses:
        if p.normal_form == low and p.is_known:
            return p
    return None


def script_of(word: str) -> str:
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "?").split()[0]
    return ""
