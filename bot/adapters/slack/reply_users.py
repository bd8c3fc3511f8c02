"""People named in a command reply: `<@U…>`, which Slack shows as their name.

The core names a person through Invocation.show_user and returns plain text, which is
escaped as a whole before it goes to Slack (the queries and feed titles in it may hold
`<`), and escaping would spoil a mention. So `show` hands the core a marker holding a key
drawn at random for this one reply, which no query or feed text can know, and `render`
escapes the reply first, then puts each `<@U…>` where its marker is.

A mention in an ephemeral reply notifies no one; in a reply posted to the channel
(`in_channel`) it would ping the person, so there the id is shown as plain text instead.
"""

from __future__ import annotations

import secrets

from bot.adapters.slack import mrkdwn


class ReplyUsers:
    def __init__(self) -> None:
        self._key = secrets.token_hex(8)
        self._marked: dict[str, str] = {}  # marker -> user id

    def show(self, user_id: str) -> str:
        """What the core writes for this person; anything not a Slack user id stays as is."""
        if mrkdwn.mention(user_id) is None:
            return user_id
        marker = f"@{self._key}:{user_id}@"  # no `&`, `<` or `>`: escaping leaves it whole
        self._marked[marker] = user_id
        return marker

    def render(self, text: str, *, ephemeral: bool) -> str:
        """The reply as mrkdwn: escaped, with the people it names as mentions if ephemeral."""
        out = mrkdwn.escape(text)
        for marker, user_id in self._marked.items():
            shown = mrkdwn.mention(user_id) if ephemeral else None
            out = out.replace(marker, shown or user_id)
        return out
