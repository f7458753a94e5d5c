"""GOV.UK Pay's paged searches: reading ``page`` and ``display_size``, and the HAL page links."""

from __future__ import annotations

from urllib.parse import urlencode

from ...domain import numbers
from ...domain.errors import DomainError

MAX_DISPLAY_SIZE = 500
INT32_MAX = 2**31 - 1


def number(args, name: str, default: int, most: int | None, invalid: list[str]) -> int:
    """A positive whole number from the query (noting the name in ``invalid`` if it is not one)."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:  # Jersey reads an Integer: ASCII digits, at most 2^31 - 1
        return numbers.parse_int(raw, name, 1, most if most is not None else INT32_MAX, max_digits=10)
    except DomainError:
        invalid.append(name)
        return default


def page_and_size(args, invalid: list[str]) -> tuple[int, int]:
    return number(args, "page", 1, None, invalid), number(args, "display_size", MAX_DISPLAY_SIZE,
                                                           MAX_DISPLAY_SIZE, invalid)


def page_links(base: str, path: str, args, page: int, last_page: int) -> dict:
    def href(number: int) -> dict:
        query = {k: v for k, v in args.items() if k != "page"}
        query["page"] = number
        return {"href": f"{base}{path}?{urlencode(query)}"}

    links = {"self": href(page), "first_page": href(1), "last_page": href(last_page)}
    if page > 1:
        links["prev_page"] = href(page - 1)
    if page < last_page:
        links["next_page"] = href(page + 1)
    return links
