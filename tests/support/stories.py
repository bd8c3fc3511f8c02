"""Stories the conversation and delivery tests feed the bot, as (guid, title, summary)
for feed_server.rss: which of them match NATO is the point of each."""

from __future__ import annotations

# NATO in its summary only.
LAVROV = (
    "lavrov-1",
    "Russia-US talks on security guarantees to be held next month: Lavrov",
    "Talks with NATO over Ukraine are scheduled for January.",
)
# No NATO: what a feed holds before the story that alerts.
SNOW = ("snow-1", "Heavy snow disrupts flights in Japan", "Dozens of flights were cancelled.")
# NATO in its title.
SUMMIT = ("summit-1", "NATO summit opens in Vilnius", "Leaders arrive for two days of talks.")
# NATO in its title, with Moscow.
MOSCOW = ("moscow-1", "NATO and Moscow trade warnings", "Diplomats met in Geneva.")
