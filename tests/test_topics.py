"""`topic:` terms (issue 14): names in many languages and forms, officials with dates,
ambiguity, "about not mentions", operator overrides, and alerts saying which name fired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.core.matching.matcher import Matcher
from bot.core.query import QueryError, parse_query
from bot.core.topics import pack as topic_pack
from bot.core.topics.display import emphasis_words, format_matched
from bot.core.topics.judge import StoryText, about, hits
from tests.support.backends import BACKEND_IDS, MATCHER_BACKENDS

NOWHERE = Path("/nonexistent/newsbot-topics.toml")


@pytest.fixture(autouse=True)
def fresh_pack() -> Iterator[None]:
    """Every test starts from the committed pack as of today, with no operator file."""
    topic_pack.install(topic_pack.load(overrides=NOWHERE))
    yield
    topic_pack.install(None)


def matched(query: str, title: str, summary: str = "", *, native: bool) -> tuple[str, ...]:
    """What an alert of `query` would say matched (empty: no alert)."""
    matcher = Matcher(native=native)
    matcher.add(1, query)
    found = matcher.match(title, summary)
    return found[0].matched if found else ()


backends = pytest.mark.parametrize("native", MATCHER_BACKENDS, ids=BACKEND_IDS)


@backends
def test_russian_story_is_caught_by_the_topic_and_not_by_the_keyword(native: bool) -> None:
    title = "Лавров заявил о готовности к переговорам"
    summary = "Министр иностранных дел сообщил, что в России ждут ответа."
    assert matched("Russia", title, summary, native=native) == ()
    said = matched("topic:Russia", title, summary, native=native)
    assert said == ("Russia (via Лавров, России)",)


@backends
def test_kyiv_is_ukraine_and_the_keyword_keeps_its_meaning(native: bool) -> None:
    assert matched("topic:Ukraine", "Explosions heard in Kyiv overnight", native=native) == (
        "Ukraine (via Kyiv)",
    )
    assert matched("Ukraine", "Explosions heard in Kyiv overnight", native=native) == ()
    # The keyword still fires exactly where the word and its English forms are.
    assert matched("Russia", "Russian forces advance", native=native) == ("Russia",)
    assert matched("=Russia", "Russia's forces advance", native=native) == ()


@backends
@pytest.mark.parametrize(
    ("title", "names"),
    [
        ("В России прошли учения", "России"),  # Russian case forms
        ("Russland droht mit Konsequenzen", "Russland"),  # German
        ("Rosja grozi konsekwencjami", "Rosja"),  # Polish
        ("Nowe sankcje wobec Rosji", "Rosji"),  # Polish genitive
        ("La Russie menace l'Europe", "Russie"),  # French
        ("Kremlin rejects the proposal", "Kremlin"),  # metonym
        ("Песков ответил на вопрос", "Песков"),  # spokesman
        ("Russlands Wirtschaft schrumpft", "Russlands"),  # German genitive
    ],
)
def test_names_in_languages_and_forms(native: bool, title: str, names: str) -> None:
    assert matched("topic:Russia", title, native=native) == (f"Russia (via {names})",)


@backends
def test_ukrainian_forms(native: bool) -> None:
    said = matched("topic:Ukraine", "Нова допомога для України", native=native)
    assert said == ("Ukraine (via України)",)
    # One word per name: the first form the story has.
    said = matched("topic:Ukraine", "Україна отримала нову допомогу з України", native=native)
    assert said == ("Ukraine (via Україна)",)


@backends
def test_turkey_the_bird_is_not_the_country(native: bool) -> None:
    recipe = "How to roast a turkey"
    summary = "Our Thanksgiving recipe: brine the Turkey overnight, then roast it with gravy."
    assert matched("topic:Turkey", recipe, summary, native=native) == ()
    assert matched("topic:Turkey", "Turkey and Greece hold talks", native=native) == ("Turkey",)


@backends
def test_acronyms_count_only_in_capitals(native: bool) -> None:
    assert matched("topic:US", "Tell us what you think", native=native) == ()
    assert matched("topic:US", "US imposes new tariffs", native=native) == (
        "United States (via US)",
    )


@backends
def test_a_passing_mention_deep_in_a_long_summary_is_not_enough(native: bool) -> None:
    filler = "The city council debated the new budget for parks and schools at length. " * 6
    summary = filler + "One speaker had once lived in Russia."
    assert matched("topic:Russia", "Council passes budget", summary, native=native) == ()
    # Named again, or early on, it is what the story is about.
    assert matched("topic:Russia", "Council passes budget", summary + " Russia", native=native)
    assert matched("topic:Russia", "Council passes budget", "Russia " + filler, native=native)


@backends
def test_a_weak_name_alone_is_not_enough(native: bool) -> None:
    # A capital is also its own city's news: "В Москве" alone is local.
    assert matched("topic:Russia", "В Москве пожарные спасли 15 человек", native=native) == ()
    assert matched("topic:Russia", "Moscow and Kremlin officials react", native=native)


@backends
def test_topics_combine_with_the_rest_of_the_language(native: bool) -> None:
    story = ("Kyiv marathon attracts runners", "The sport event drew thousands to Kyiv.")
    assert matched("topic:Ukraine -sport", *story, native=native) == ()
    assert matched("topic:Ukraine marathon", *story, native=native) == (
        "Ukraine (via Kyiv)",
        "marathon",
    )
    assert matched("title:topic:NATO", "Allies meet", "NATO summit opens", native=native) == ()
    assert matched("title:topic:NATO", "НАТО расширяется", native=native) == ("NATO (via НАТО)",)
    assert matched('topic:"United Kingdom"', "Britain votes", native=native) == (
        "United Kingdom (via Britain)",
    )
    # Under NOT a topic excludes any story naming it.
    assert matched("sanctions -topic:Russia", "New sanctions on Moscow banks", native=native) == ()


@backends
def test_spans_point_at_the_names_that_fired(native: bool) -> None:
    matcher = Matcher(native=native)
    matcher.add(1, "topic:Russia")
    [match] = matcher.match("Lavrov meets Wang Yi", "The Kremlin said talks went well.")
    texts = ["Lavrov meets Wang Yi", "The Kremlin said talks went well."]
    assert [texts[s.field == "summary"][s.start : s.end] for s in match.spans] == [
        "Lavrov",
        "Kremlin",
    ]


def test_unknown_topic_is_refused_with_the_closest_names() -> None:
    with pytest.raises(QueryError) as refused:
        parse_query("topic:Rusia")
    assert refused.value.message == 'unknown topic "Rusia": did you mean Russia?'
    with pytest.raises(QueryError, match="unknown topic"):
        parse_query("NATO topic:Qqqqqq")
    with pytest.raises(QueryError, match="must be followed by a topic"):
        parse_query("topic: Russia")


def test_topic_names_are_case_insensitive_and_take_other_names() -> None:
    same = {parse_query(q).node for q in ("topic:russia", "topic:RUSSIA", "topic:Russia")}
    assert len(same) == 1
    assert parse_query("topic:USA").words == ("United States",)
    assert parse_query("topic:Turkey").words == ("Turkey",)


def test_a_former_official_fires_only_within_the_grace_period() -> None:
    story = StoryText("Poroshenko criticises the government", "")
    left = date(2019, 5, 20)  # Poroshenko's term ended (curated.toml)
    within = topic_pack.load(as_of=left + timedelta(days=300), overrides=NOWHERE)
    after = topic_pack.load(as_of=left + timedelta(days=800), overrides=NOWHERE)
    assert hits(within.topics["UA"], story)
    assert not hits(after.topics["UA"], story)
    # The period is configurable.
    short = topic_pack.load(
        as_of=left + timedelta(days=300), grace=timedelta(days=30), overrides=NOWHERE
    )
    assert not hits(short.topics["UA"], story)
    # And an official not yet in office does not fire before.
    before = topic_pack.load(as_of=date(2010, 1, 1), overrides=NOWHERE)
    assert not hits(before.topics["NATO"], StoryText("Rutte visits troops", ""))


def test_the_grace_period_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("NEWSBOT_TOPIC_GRACE_DAYS", "10")
    assert load_settings().newsbot_topic_grace_days == 10
    topic_pack.configure(grace=timedelta(days=10), overrides=NOWHERE)
    story = StoryText("Poroshenko criticises the government", "")
    loaded = topic_pack.load(as_of=date(2019, 6, 20))
    assert not hits(loaded.topics["UA"], story)  # a month after leaving office: too long
    topic_pack.configure(grace=topic_pack.DEFAULT_GRACE, overrides=None)
    monkeypatch.setenv("NEWSBOT_TOPIC_GRACE_DAYS", "-1")
    with pytest.raises(ConfigError, match="NEWSBOT_TOPIC_GRACE_DAYS"):
        load_settings()


@backends
def test_an_operator_file_adds_names_and_topics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    (tmp_path / "newsbot-topics.toml").write_text(
        '[topics.RU]\nnames = ["Rossiya"]\n\n'
        '[topics.ACME]\ndisplay = "Acme Corp"\nnames = ["Acme", "Acme Corporation"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    topic_pack.install(None)  # loaded again, from the working directory
    assert matched("topic:Russia", "Rossiya airline adds flights", native=native) == (
        "Russia (via Rossiya)",
    )
    assert matched("topic:acme", "Acme's profits rise", native=native) == (
        "Acme Corp (via Acme's)",
    )


def test_a_bad_operator_file_says_what_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "topics.toml"
    bad.write_text('[topics.RU]\nnames = "Rossiya"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="names must be a list of strings"):
        topic_pack.load(overrides=bad)


def test_about_rule_reads_title_lead_and_repetition() -> None:
    russia = topic_pack.current().topics["RU"]
    in_title = StoryText("Russia says no", "")
    assert about(russia, hits(russia, in_title))
    lead = StoryText("Talks stall", "Russia rejected the plan on Monday.")
    assert about(russia, hits(russia, lead))


def test_via_text_and_bold_words() -> None:
    assert format_matched("Russia", ["Kremlin", "Лаврова"]) == "Russia (via Kremlin, Лаврова)"
    assert format_matched("NATO", ["NATO"]) == "NATO"
    assert emphasis_words(["Russia (via Kremlin, Лаврова)", "gas"]) == [
        "Russia",
        "Kremlin",
        "Лаврова",
        "gas",
    ]


def test_every_country_and_the_major_organisations_are_topics() -> None:
    pack = topic_pack.current()
    for name in (
        *("NATO", "EU", "UN", "WHO", "IMF", "OPEC", "G7", "G20", "BRICS", "ASEAN"),
        *("African Union", "OSCE", "IAEA", "ICC", "Japan", "Brazil", "Kenya", "Fiji"),
    ):
        assert pack.find(name) is not None, name
    assert len(pack.topics) >= 250
    # Names in the pack languages, from CLDR.
    japan = pack.topics["JP"]
    labels = {n.label for n in japan.names}
    assert {"日本", "Япония", "Japonia", "Japan", "Ιαπωνία"} <= labels


async def test_a_bad_operator_file_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.runtime import build_app

    (tmp_path / "newsbot-topics.toml").write_text("[topics.RU\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    with pytest.raises(ConfigError, match="invalid topics file"):
        await build_app(settings, [], feed_urls=[])
    topic_pack.configure(grace=topic_pack.DEFAULT_GRACE, overrides=None)
