"""Article pages with real-world shapes, served on 127.0.0.2 (treated as public by
PUBLIC_FOR_TESTS while 127.0.0.1 stays forbidden, so the address guard is exercised end to
end on this machine).

`ArticleSite.start()` serves: a news article with navigation, share bar and comments; a
cookie-consent wall; a paywall teaser; a page that redirects to a loopback address (the
target, on 127.0.0.1, records whether anything reached it); a 20 MB page; a page that
never answers until the site stops.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.feeds.netguard import AddressPolicy
from tests.support.feed_server import FeedServer

PUBLIC_FOR_TESTS = AddressPolicy(allow=(ipaddress.ip_network("127.0.0.2/32"),))

LEAD = (
    "Finland's parliament voted on Tuesday to approve a bill that lets the border guard"
    " turn back asylum seekers arriving from Russia, a measure the government says is"
    " needed to stop what it calls hybrid warfare by Moscow."
)
SECOND = (
    "The bill passed with 167 votes in favour and 31 against, clearing the two-thirds"
    " majority it needed because it overrides parts of the constitution."
)

ARTICLE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Finland passes border bill | World Wire</title>
<meta property="og:title" content="Finland passes border bill"></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<main><article>
<h1>Finland passes border bill</h1>
<p class="byline">By Anna Virtanen, Helsinki</p>
<div class="share">Share on Facebook | Share on X | Email</div>
<p>{LEAD}</p>
<p>{SECOND}</p>
<p>Human rights groups and the United Nations refugee agency criticised the law,
saying it breaches Finland's international obligations and risks sending people back
to danger without hearing their claims.</p>
<p>The law is temporary and will be in force for one year, the interior ministry said,
adding that it would be applied only when the government decides the situation at the
border requires it.</p>
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Storm hits coast</a></li>
<li><a href="/b">Markets fall</a></li></ul></aside>
<section id="comments"><h2>Comments (2)</h2>
<div class="comment"><p>Helmut77: About time, this should have been done years ago!!!</p></div>
<div class="comment"><p>Reader: Click here to win a free phone, best deals today only.</p></div>
</section></main>
<footer><p>© 2024 World Wire. All rights reserved. Privacy | Cookies | Terms</p></footer>
</body></html>"""

CONSENT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Before you continue</title></head>
<body><div class="consent">
<h1>We value your privacy</h1>
<p>We and our partners use cookies and similar technologies to store and access
information on your device, with your consent, for personalised ads and content.</p>
<p>You can change your privacy settings at any time. Click Accept all to consent or
Reject all to refuse, or manage your choices.</p>
<button>Accept all</button><button>Reject all</button>
</div></body></html>"""

PAYWALL = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Finland passes border bill</title></head>
<body><article><h1>Finland passes border bill</h1>
<p>Finland's parliament voted on Tuesday to approve a bill that lets the border...</p>
<div class="paywall"><h2>Subscribe to continue reading</h2>
<p>Already a subscriber? Sign in to continue. Subscribe now to read the full story.</p>
</div></article></body></html>"""


class ArticleSite:
    """The pages above, on 127.0.0.2; `private` (127.0.0.1) is the redirect's target."""

    def __init__(self) -> None:
        self.public = FeedServer(host="127.0.0.2")
        self.private = FeedServer(host="127.0.0.1")

    async def start(self) -> None:
        await self.public.start()
        await self.private.start()
        html = {"Content-Type": "text/html; charset=utf-8"}
        self.public.serve("/article", ARTICLE, headers=html)
        self.public.serve("/consent", CONSENT, headers=html)
        self.public.serve("/paywall", PAYWALL, headers=html)
        self.private.serve("/admin", ARTICLE, headers=html)
        self.public.redirect("/to-private", self.private.url("/admin"))
        self.public.handle("/huge", _huge)
        self.public.hang("/slow")

    async def stop(self) -> None:
        await self.public.stop()
        await self.private.stop()

    def url(self, path: str) -> str:
        return self.public.url(path)


async def _huge(request: web.Request) -> web.StreamResponse:
    """A 20 MB page sent in chunks without a Content-Length: only counting stops it."""
    resp = web.StreamResponse(headers={"Content-Type": "text/html"})
    await resp.prepare(request)
    chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
    sent = 0
    try:
        while sent < 20 * 1024 * 1024:
            await resp.write(chunk)
            sent += len(chunk)
    except (ConnectionResetError, RuntimeError):
        return resp  # the client hung up at its cap, as it should
    await resp.write_eof()
    return resp
