"""Walk GOV.UK Pay's payment pages like a browser without JavaScript: follow redirects, post forms."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin
from urllib.parse import urlsplit

CARD = {"card_number": "4444333322221111", "expiry": "12/35", "cvc": "123", "cardholder_name": "Mr Test"}
SERVICE_HOST = "service.example"


@dataclass
class Page:
    url: str
    status: int
    location: str | None
    html: str

    def has(self, test_id: str) -> bool:
        return f'data-test-id="{test_id}"' in self.html


class Browser:
    """One browser (one cookie jar): a Flask test client, or a requests.Session for a live server."""

    def __init__(self, client):
        self.client = client
        self.in_process = hasattr(client, "open")

    def _send(self, method: str, url: str, data: dict | None = None) -> Page:
        if self.in_process:
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            response = self.client.open(path, method=method, data=data)
            return Page(url, response.status_code, response.headers.get("Location"), response.get_data(as_text=True))
        response = self.client.request(method, url, data=data, allow_redirects=False, timeout=10)
        return Page(url, response.status_code, response.headers.get("Location"), response.text)

    def open(self, url: str, method: str = "GET", data: dict | None = None) -> Page:
        """Request a page and follow redirects within the provider; stop at the service's site."""
        page = self._send(method, url, data)
        while page.status in (301, 302, 303) and page.location and SERVICE_HOST not in page.location:
            page = self._send("GET", urljoin(page.url, page.location))
        return page

    def submit_card(self, next_url: str, card: dict | None = None) -> Page:
        card_page = self.open(next_url)
        assert card_page.status == 200 and 'name="card_number"' in card_page.html, card_page.html[:300]
        return self.open(card_page.url, "POST", card or CARD)

    def pay(self, next_url: str, card: dict | None = None) -> Page:
        """next_url -> card details -> confirm -> the redirect to the service's return_url."""
        confirm_page = self.submit_card(next_url, card)
        assert confirm_page.has("confirm-button"), confirm_page.html[:500]
        return self.open(confirm_page.url, "POST", {})

    def cancel_on(self, page: Page) -> Page:
        return self.open(page.url.split("?")[0].removesuffix("/confirm") + "/cancel", "POST", {})
