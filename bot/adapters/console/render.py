"""One readable block of plain text per alert."""

from __future__ import annotations

from bot.core.models import Alert


def render_alert(alert: Alert) -> str:
    if alert.kind == "notice":
        return f"── newsbot notice ──\n{alert.title}\n{alert.summary}\n".replace("\n\n", "\n")
    if alert.kind == "digest":
        # The digest's summary already lists every story, one per line, within limits.
        return f"── newsbot digest · {alert.source} ──\n{alert.title}\n{alert.summary}\n"
    when = alert.published.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"── newsbot alert · {', '.join(alert.topics)} ──",
        alert.title,
        f"{alert.source} · {when}",
    ]
    if original := alert.extra.get("original_title"):  # the title was translated
        lines.insert(2, f"({alert.extra.get('title_language', '?')}) {original}")
    if alert.summary:
        lines.append(alert.summary)
    lines.append(alert.link)
    lines.append(f"Matched: {', '.join(alert.matched)}  (topics: {', '.join(alert.topics)})")
    if alert.extra.get("also_reported_by"):
        lines.append(f"Also reported by: {alert.extra['also_reported_by']}")
    return "\n".join(lines) + "\n"
