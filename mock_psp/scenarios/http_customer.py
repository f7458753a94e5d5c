"""``customer_pays``: a customer on the provider's hosted checkout, over plain HTTP (no browser).

Fast, and it stops where the provider sends the customer back: the merchant's
return page is *not* visited, so a scenario can prove what the merchant learns
from webhooks (or reconciliation) alone.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from .context import Run
from .context import StepFailed
from .context import step

STAGE = re.compile(r"/checkout/(cs_[A-Za-z0-9_-]+)(/3ds|/confirm)?$")
MAX_HOPS = 12


@step("customer_pays")
def customer_pays(run: Run, args: dict) -> dict:
    browser = requests.Session()
    provider = urlsplit(run.psp_url).netloc
    url = args["url"]
    reply = browser.get(url, allow_redirects=False, timeout=30)
    for _ in range(MAX_HOPS):
        location = reply.headers.get("Location")
        if reply.status_code in (301, 302, 303) and location:
            target = urljoin(reply.url, location)
            if urlsplit(target).netloc != provider:
                return {"returned_to": target, "status": reply.status_code}
            reply = browser.get(target, allow_redirects=False, timeout=30)
            continue
        if reply.status_code >= 400:
            code = re.search(r'data-code="([^"]*)"', reply.text)
            raise StepFailed(f"the checkout answered HTTP {reply.status_code}", found=code[1] if code else
                             reply.text[:300])
        stage = STAGE.search(urlsplit(reply.url).path)
        if stage is None:
            raise StepFailed("the customer ended on a page that is not the checkout", found=reply.url)
        if stage[2] == "/3ds":
            if "three_ds" not in args:
                raise StepFailed("the checkout asks for 3DS but the step says nothing about it")
            reply = browser.post(reply.url, data={"confirm": "true" if args["three_ds"] == "complete" else "false"},
                                 allow_redirects=False, timeout=30)
        elif stage[2] == "/confirm":
            reply = browser.post(reply.url, allow_redirects=False, timeout=30)
        elif 'data-test-id="pay-button"' in reply.text:
            reply = browser.post(reply.url, data=_form(run, args), allow_redirects=False, timeout=30)
            if reply.status_code == 400:
                raise StepFailed("the checkout refused the details", found=reply.text[:300])
        else:  # a result page the provider shows instead of sending the customer back
            code = re.search(r'data-status="([^"]*)"', reply.text)
            return {"returned_to": None, "page": reply.url, "result": code[1] if code else None}
    raise StepFailed(f"the checkout did not finish within {MAX_HOPS} pages")


def _form(run: Run, args: dict) -> dict:
    method = args.get("method", "card")
    if method == "bank":
        return {"method": "bank", "bank": args.get("bank", "TESTBANK-APPROVE")}
    if method == "upi":
        return {"method": "upi", "vpa": args.get("vpa", "success@upi")}
    return {"method": "card", "card_number": args.get("card", run.described.client.happy_card), "expiry": "12/35",
            "cvc": "123", "cardholder_name": "Scenario Customer"}
