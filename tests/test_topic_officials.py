"""Every country topic knows the people who stand for it (issue 14, item 3): heads of state
and government for all UN members (curated.toml, else the CIA World Factbook through
bot/core/topics/build.py), with their dates, and names that are someone else's too fire
only in full."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.topics import pack as topic_pack
from bot.core.topics.build import factbook_people
from bot.core.topics.judge import StoryText, hits

NOWHERE = Path("/nonexistent/newsbot-topics.toml")
UN_MEMBERS = Path(__file__).parent / "data" / "topics_un_members.txt"
AS_OF = date(2026, 1, 17)  # the latest date in the Factbook data the pack was built from


def _members() -> list[str]:
    lines = UN_MEMBERS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_every_un_member_has_a_head_of_state_or_government_in_office() -> None:
    members = _members()
    assert len(members) == 193
    loaded = topic_pack.load(as_of=AS_OF, overrides=NOWHERE)
    missing = [
        code
        for code in members
        if not any("o" in n.flags and n.until is None for n in loaded.topics[code].names)
    ]
    assert missing == []


def test_a_factbook_official_fires_for_the_country() -> None:
    loaded = topic_pack.load(as_of=AS_OF, overrides=NOWHERE)
    story = StoryText("Steinmeier opens the session", "")
    assert hits(loaded.topics["DE"], story)
    assert not hits(loaded.topics["AT"], story)
    # Not yet in office: the Factbook's start date holds.
    assert not hits(topic_pack.load(as_of=date(2016, 1, 1), overrides=NOWHERE).topics["DE"], story)


def test_a_name_that_is_also_someone_else_fires_only_in_full() -> None:
    romania = topic_pack.load(as_of=AS_OF, overrides=NOWHERE).topics["RO"]
    assert hits(romania, StoryText("Nicușor Dan meets EU leaders", ""))
    assert not hits(romania, StoryText("Dan and his band play tonight", ""))


def test_a_person_heading_several_states_stands_for_the_most_populous() -> None:
    loaded = topic_pack.load(as_of=AS_OF, overrides=NOWHERE)
    story = StoryText("King Charles III opens parliament", "")
    assert hits(loaded.topics["GB"], story)
    assert not hits(loaded.topics["CA"], story)
    assert not hits(loaded.topics["AD"], StoryText("Macron speaks", ""))


def test_a_former_organisation_leader_stops_firing_after_the_grace_period() -> None:
    story = StoryText("Borrell warns about the crisis", "")
    left = date(2024, 11, 30)  # High Representative until then (curated.toml)
    within = topic_pack.load(as_of=left + timedelta(days=300), overrides=NOWHERE)
    after = topic_pack.load(as_of=left + timedelta(days=800), overrides=NOWHERE)
    assert hits(within.topics["EU"], story)
    assert not hits(after.topics["EU"], story)


def test_australia_is_a_country_and_the_african_union_an_organisation() -> None:
    loaded = topic_pack.load(as_of=AS_OF, overrides=NOWHERE)
    australia, union = loaded.find("Australia"), loaded.find("African Union")
    assert australia is not None
    assert union is not None
    assert (australia.kind, union.kind) == ("country", "organisation")
    story = StoryText("Australia and Canberra react", "")
    assert hits(australia, story)
    assert not hits(union, story)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("President Emmanuel MACRON (since 14 May 2017)", [("2017-05-14", "Emmanuel Macron")]),
        # East Asian order: the capitalised surname comes first.
        ("President LEE Jae-myung (since 4 June 2025)", [("2025-06-04", "Lee Jae-myung")]),
        ("President Donald J. TRUMP (since 20 January 2025)", [("2025-01-20", "Donald Trump")]),
        (
            'President Ferdinand "BongBong" MARCOS, Jr. (since 30 June 2022)',
            [("2022-06-30", "Ferdinand Marcos")],
        ),
        (
            "King CHARLES III (since 8 September 2022); represented by Governor General Mary "
            "SIMON (since 26 July 2021)",
            [("2022-09-08", "King Charles III")],
        ),
        ("Prime Minister ABIY Ahmed Ali (since April 2018)", [("2018-04-01", "Abiy Ahmed Ali")]),
        # The press leaves out a leading Mohammed, and ranks (Capt.) are not first names.
        ("President Mohammed Irfaan ALI (since 2 August 2020)", [("2020-08-02", "Irfaan Ali")]),
        ("President Capt. Ibrahim TRAORE (since 30 Sep 2022)", [("2022-09-30", "Ibrahim Traore")]),
        ("Ahmad al-Shara'; former President Bashar al-ASAD was overthrown", []),
    ],
)
def test_factbook_lines_give_names_and_start_dates(
    line: str, expected: list[tuple[str, str]]
) -> None:
    people = factbook_people(line)
    assert [(since, labels[0]) for since, labels in people] == expected
