"""Where a customer may be sent: a web address, never ``javascript:``, ``data:`` or ``file:``.

Every dialect checks a merchant's return URL with this when it is given (each in its own error
envelope), and the pages that redirect check it again before they send a ``Location``, so a
value stored before the rule (or by a snapshot) cannot make the provider redirect elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")


def is_web_url(text: object) -> bool:
    """An absolute http(s) URL with a host."""
    if not isinstance(text, str) or any(ch in text for ch in "\r\n\t\x00") or text != text.strip():
        return False
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an invalid IPv6 literal, or a port that is not a number
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(host)


def host_of(text: str) -> str | None:
    """The URL's host, lower case (None if it has none or cannot be read)."""
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def origin_of(text: object) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower case (None if it is not one or cannot
    be read): what a browser's ``Origin`` header says, for comparing with Referer and settings."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. "http://[oops": a header anyone can send
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
