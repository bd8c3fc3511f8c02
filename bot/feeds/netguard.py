"""Where a feed added from chat may connect: public unicast addresses only.

A user-added feed URL is untrusted input that makes the bot open a connection, the classic
server-side request forgery. Three layers keep such a fetch off loopback, private and
other non-public networks:

1. the URL's host, when it is an IP literal, is checked before anything else (aiohttp does
   not ask the resolver about literals); every redirect hop is checked the same way;
2. `GuardedResolver` checks every DNS answer as aiohttp resolves it for the connection
   itself, so an answer that changes between a check and the connect (DNS rebinding)
   cannot slip through: there is no separate "check" lookup to race;
3. `GuardedConnector` checks the peer address of the socket actually connected to (new
   or reused from the pool) before a request byte is written on it.

Operator feeds (NEWSBOT_FEEDS_FILE) are trusted and never go through this module.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.errors import UnsafeURLError

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6598 shared address space (carrier-grade NAT): not "private" to the ipaddress
# module on every Python version, but never a public server either.
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# RFC 6052 / RFC 8215 NAT64 prefixes: on a NAT64 network 64:ff9b::a00:5 reaches 10.0.0.5.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_ODD_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public unicast only; `allow` lists networks exempted on purpose.

    `allow` exists so that tests can treat one loopback address (127.0.0.2) as "public"
    while 127.0.0.1 stays forbidden: the guard is then exercised end to end on this
    machine without sending a packet anywhere else.
    """

    allow: tuple[IPNetwork, ...] = ()

    def refusal(self, address: str | IPAddress) -> str | None:
        """None when `address` may be connected to, else what kind of address it is."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return "not an IP address"
        if any(ip in net for net in self.allow if net.version == ip.version):
            return None
        return _kind_of_forbidden(ip)


def _kind_of_forbidden(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one is judged by the IPv4 address it
        # reaches: ::ffff:127.0.0.1 is loopback, 64:ff9b::a00:5 is 10.0.0.5.
        embedded = ip.ipv4_mapped or _nat64(ip) or (ip.sixtofour) or _teredo_client(ip)
        if embedded is not None:
            kind = _kind_of_forbidden(embedded)
            return f"{kind} ({embedded} inside an IPv6 address)" if kind else None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _teredo_client(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    teredo = ip.teredo
    # Teredo (2001::/32) embeds a server and an obfuscated client address; the client
    # is the one traffic ends up at.
    return teredo[1] if teredo else None


def check_host(host: str, policy: AddressPolicy) -> None:
    """Refuse a URL host that is a forbidden IP literal; names are left to the resolver."""
    literal = host.strip("[]")
    try:
        ip = ipaddress.ip_address(literal)
    except ValueError:
        if _ODD_NUMERIC_HOST.match(literal):
            # 2130706433, 0x7f000001, 127.1 and 0177.0.0.1 all mean 127.0.0.1 to
            # inet_aton; nobody publishes a feed at such an address.
            raise UnsafeURLError(
                f"refused: {literal} is an IP address written in an unusual form"
            ) from None
        return
    kind = policy.refusal(ip)
    if kind:
        raise UnsafeURLError(f"refused: {literal} is {kind}")


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` and refuses the host if any answer is forbidden.

    Refusing the whole answer, rather than dropping the bad addresses, gives the user a
    clear reason and treats a name that mixes public and private answers as what it
    usually is: a rebinding attempt.
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            kind = self.policy.refusal(answer["host"])
            if kind:
                raise UnsafeURLError(f"refused: {host} resolves to {answer['host']}, {kind}")
        return answers

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that checks the peer of every connection it hands out."""

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> Connection:
        conn = await super().connect(req, traces, timeout)
        transport = conn.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        address = str(peer[0]) if isinstance(peer, tuple) and peer else None
        kind = self.policy.refusal(address) if address else "not an IP address"
        if kind:
            conn.close()
            raise UnsafeURLError(f"refused: {req.url.host} connected to {address}, {kind}")
        return conn


def guarded_connector(
    policy: AddressPolicy, resolver: AbstractResolver | None = None
) -> GuardedConnector:
    return GuardedConnector(
        policy,
        resolver=GuardedResolver(policy, resolver),
        # No DNS cache: every connection gets its own checked answer.
        use_dns_cache=False,
    )
