"""The test merchant's webhook signature checks, for each scheme."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC
from datetime import datetime

import pytest
from standardwebhooks.webhooks import Webhook

from mock_psp.test_merchant.signatures import SignatureInvalid
from mock_psp.test_merchant.signatures import verify

BODY = b'{"event_id": "evt_1", "event_type": "payment_succeeded"}'
NOW = 1_800_000_000


def hex_sig(secret: str, body: bytes, digest) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


@pytest.mark.parametrize("scheme, header, digest", [("hyperswitch", "X-Webhook-Signature-512", hashlib.sha512),
                                                    ("govuk", "Pay-Signature", hashlib.sha256)])
class TestHexSchemes:
    def test_a_correct_signature_passes(self, scheme, header, digest):
        verify(scheme, "s3cret", BODY, {header: hex_sig("s3cret", BODY, digest)}, NOW)

    def test_a_tampered_body_fails(self, scheme, header, digest):
        with pytest.raises(SignatureInvalid, match="does not match"):
            verify(scheme, "s3cret", BODY.replace(b"succeeded", b"failed"), {header: hex_sig("s3cret", BODY, digest)},
                   NOW)

    def test_a_signature_made_with_another_secret_fails(self, scheme, header, digest):
        with pytest.raises(SignatureInvalid):
            verify(scheme, "s3cret", BODY, {header: hex_sig("guess", BODY, digest)}, NOW)

    def test_a_missing_signature_fails(self, scheme, header, digest):
        with pytest.raises(SignatureInvalid, match="missing"):
            verify(scheme, "s3cret", BODY, {}, NOW)

    def test_the_other_schemes_header_does_not_count(self, scheme, header, digest):
        other = "Pay-Signature" if header != "Pay-Signature" else "X-Webhook-Signature-512"
        with pytest.raises(SignatureInvalid, match="missing"):
            verify(scheme, "s3cret", BODY, {other: hex_sig("s3cret", BODY, digest)}, NOW)


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def standard_headers(at: int, body: bytes = BODY, secret: str = SECRET) -> dict:
    """Signed by the reference library, so our check is tested against the standard itself."""
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(at, tz=UTC), body.decode())
    return {"webhook-id": "msg_1", "webhook-timestamp": str(at), "webhook-signature": signature}


def test_a_standard_webhook_signed_by_the_reference_library_passes():
    verify("standard", SECRET, BODY, standard_headers(NOW), NOW)


def test_a_standard_webhook_passes_when_any_of_several_signatures_matches():
    headers = standard_headers(NOW)
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
    verify("standard", SECRET, BODY, headers, NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_a_standard_webhook_outside_five_minutes_is_refused_as_a_replay(age):
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify("standard", SECRET, BODY, standard_headers(NOW - age), NOW)


def test_a_standard_webhook_inside_five_minutes_passes():
    verify("standard", SECRET, BODY, standard_headers(NOW - 299), NOW)


def test_a_standard_webhook_with_a_changed_id_fails():
    headers = standard_headers(NOW)
    headers["webhook-id"] = "msg_2"
    with pytest.raises(SignatureInvalid, match="no v1 signature"):
        verify("standard", SECRET, BODY, headers, NOW)


def test_a_standard_webhook_without_its_headers_fails():
    with pytest.raises(SignatureInvalid, match="missing"):
        verify("standard", SECRET, BODY, {"webhook-id": "msg_1"}, NOW)
