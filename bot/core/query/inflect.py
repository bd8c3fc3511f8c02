"""The English forms a bare query word also matches, made by a few suffix rules.

Applied when a subscription is indexed (the query word is expanded into its forms), not to
stories, so matching stays one dictionary lookup per story word. Rules, on the word's
normal form (see bot.core.query.text), for words written in Latin letters only:

- plural: `+s`; `+es` after s, x, z, ch, sh; consonant + y -> `ies` (`policy` -> `policies`)
- possessive of the word and of its plural: `+'s` (`NATO` -> `NATO's`); the plural
  possessive `Russians'` needs no rule, since the trailing apostrophe is not part of a word
- for words of 4 letters or more, the -n / -an / -ian adjective (nationality) and its plural
  and possessive, by the last letter:
    a: `+n`, `a` -> `ian`       Russia -> Russian, Korea -> Korean, Canada -> Canadian
    e: `+an`, `e` -> `ian`      Europe -> European, Ukraine -> Ukrainian
    i: `+an`                    Haiti -> Haitian
    o: `o` -> `an` (6 letters+) Mexico -> Mexican (not NATO -> Natan)
    y: `y` -> `ian`             Italy -> Italian
    other consonants: `+ian`    Iran -> Iranian, Brazil -> Brazilian

These are generous on purpose (an extra form such as `russiaian` never occurs, so it costs
nothing) and a few real words come along (`guard` -> `guardian`); `=word` turns every rule
off. Why not a stemmer: stemming story words conflates far more (`universal` with
`university`) and its output differs by library version, and no maintained library makes
nationality adjectives from country names.
"""

from __future__ import annotations

from functools import lru_cache

_VOWELS = frozenset("aeiou")
_MIN_ADJECTIVE_BASE = 4
_MIN_O_BASE = 6  # Mexico -> Mexican, but not NATO -> Natan


_ES_AFTER = ("s", "x", "z", "ch", "sh")


def _adjectives(word: str) -> list[str]:
    if len(word) < _MIN_ADJECTIVE_BASE:
        return []
    last, stem = word[-1], word[:-1]
    if last == "a":
        return [word + "n", stem + "ian"]
    if last == "e":
        return [word + "an", stem + "ian"]
    if last == "i":
        return [word + "an"]
    if last == "o" and len(word) >= _MIN_O_BASE:
        return [stem + "an"]
    if last == "y":
        return [stem + "ian"]
    if last in _VOWELS:
        return []
    return [word + "ian"]


@lru_cache(maxsize=16_384)
def word_forms(word: str) -> frozenset[str]:
    """`word` (a normal form) and the forms the rules above make from it."""
    if not inflects(word):
        return frozenset((word,))
    forms = plain_forms(word)
    return frozenset((*forms, *(form + "'s" for form in forms)))


def inflects(word: str) -> bool:
    """Whether the rules apply to `word` (a normal form): Latin letters only."""
    return word.isascii() and word.isalpha()


def plain_forms(word: str) -> list[str]:
    """The forms of an inflecting `word` without their possessives, each of which is a form
    too (`form's`). Not cached: an index asks once per distinct word, for each new word of
    each query it adds, so the plural rules are written out here rather than looped over.

    No form comes twice: the word's plurals end in `s`, its adjectives in `n` (and are
    longer than the word), and their plurals add `s` to each adjective, which differ."""
    forms = [word, word + "s"]
    if word.endswith(_ES_AFTER):
        forms.append(word + "es")
    elif _consonant_y(word):
        forms.append(word[:-1] + "ies")
    for adjective in _adjectives(word):
        forms += (adjective, adjective + "s")  # every adjective ends in `n`: only `+s`
    return forms


def plain_forms_of(words: list[str]) -> tuple[list[int], list[str]]:
    """plain_forms of many inflecting words at once, flattened into two lists: for each
    form, the index of its word in `words`, and the form. Rule by rule over all the words,
    so building an index of 100,000 words pays a few list passes, not 100,000 calls."""
    at = range(len(words))
    which = [*at, *at]
    forms = [*words, *(w + "s" for w in words)]
    es = [i for i in at if words[i].endswith(_ES_AFTER)]
    which += es
    forms += (words[i] + "es" for i in es)
    ies = [i for i in at if _consonant_y(words[i])]
    which += ies
    forms += (words[i][:-1] + "ies" for i in ies)
    adjectives = [(i, a) for i in at for a in _adjectives(words[i])]
    which += (i for i, _ in adjectives)
    forms += (a for _, a in adjectives)
    which += (i for i, _ in adjectives)
    forms += (a + "s" for _, a in adjectives)  # every adjective ends in `n`: only `+s`
    return which, forms


def _consonant_y(word: str) -> bool:
    return len(word) > 1 and word[-1] == "y" and word[-2] not in _VOWELS


def base_candidates(token: str) -> set[str]:
    """Every word whose forms could include `token`: the rules above, undone.

    A superset (check `token in word_forms(base)`); it lets the matcher index each query
    word once instead of all its forms, and pay for the rules once per distinct story word.
    """
    out: set[str] = set()
    stems = [token, token[:-2]] if token.endswith("'s") else [token]
    for stem in stems:
        singular = {stem}
        if stem.endswith("s"):
            singular.add(stem[:-1])
        if stem.endswith("es"):
            singular.add(stem[:-2])
        if stem.endswith("ies"):
            singular.add(stem[:-3] + "y")
        for base in singular:
            out.add(base)
            if base.endswith("n"):
                out.add(base[:-1])  # Russia + n
            if base.endswith("an"):
                out.update((base[:-2], base[:-2] + "o"))  # Europe + an, Mexic(o) -> an
            if base.endswith("ian"):
                root = base[:-3]
                out.update((root, root + "a", root + "e", root + "y"))
    return out
