"""A feed's bytes to text: the encodings feeds really use and the labels they get wrong.

feedparser follows RFC 3023 to the letter: the HTTP charset wins, and a document labelled
ISO-8859-1 is decoded as ISO-8859-1 even when its bytes are plainly UTF-8 (every byte
string is valid ISO-8859-1, so the label "works" and the titles come out as mojibake).
We decide the encoding ourselves and hand feedparser UTF-8:

1. a byte order mark, or the UTF-16/32 shape of "<?" (XML 1.0 appendix F), decides;
2. bytes that are valid UTF-8 are UTF-8, whatever the labels say: text in a legacy
   encoding is practically never valid UTF-8 by accident once it has non-ASCII bytes;
3. otherwise a specific label (windows-1251, KOI8-R, Shift_JIS, ...) from the XML
   declaration or the HTTP charset, the document's own first; "ISO-8859-1" and
   "US-ASCII" are often a server's or a template's default, so they come last;
4. otherwise windows-1252, which browsers use for the ISO-8859-1 label too (its "smart
   quotes" are what feeds labelled ISO-8859-1 really contain).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""", re.IGNORECASE
)
_SNIFF = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# "<?" without a byte order mark, in each wide encoding.
_NO_BOM = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
# Labels that are usually a default rather than a statement about the bytes.
_WEAK = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252"})
# Supersets that real documents labelled with the subset use.
_SUPERSET = {"gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "euc_kr": "cp949"}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the Python codec name used


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSET.get(name, name)


def decode_feed(body: bytes, content_type: str | None = None) -> Decoded:
    for mark, codec in _SNIFF:
        if body.startswith(mark):
            return Decoded(body[len(mark) :].decode(codec, errors="replace"), codec)
    for shape, codec in _NO_BOM:
        if body.startswith(shape):
            return Decoded(body.decode(codec, errors="replace"), codec)

    match = _XML_ENCODING.match(body[:1024])
    labels = [_codec(match.group(1).decode("ascii") if match else None)]
    labels.append(_codec(charset_of(content_type)))
    # Without a byte order mark or the wide "<?" shape the bytes are not UTF-16/32,
    # whatever a label says (we could read the label as ASCII, after all).
    declared = [c for c in labels if c and not c.startswith(("utf-16", "utf-32"))]
    declared = list(dict.fromkeys(declared))

    if body.isascii():
        # Every ASCII-compatible label reads ASCII the same; only 7-bit stateful
        # encodings (ISO-2022-JP) differ, so a label that decodes is taken at its word.
        for codec in declared:
            try:
                return Decoded(body.decode(codec), codec)
            except UnicodeDecodeError:
                continue
        return Decoded(body.decode("ascii"), "ascii")
    try:
        return Decoded(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    specific = [c for c in declared if c != "utf-8" and c not in _WEAK]
    for codec in specific:
        try:
            return Decoded(body.decode(codec), codec)
        except UnicodeDecodeError:
            continue
    if specific:
        # A stray bad byte in a Shift_JIS or GB18030 feed: keep the label, lose the byte.
        return Decoded(body.decode(specific[0], errors="replace"), specific[0])
    try:
        return Decoded(body.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        return Decoded(body.decode("latin-1"), "latin-1")
