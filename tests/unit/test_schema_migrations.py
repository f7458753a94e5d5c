"""A database from before the per-dialect tables is brought up to date with nothing lost:
its keys, its dialects' settings, and what its stored magic cards do."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from sqlite_utils import Database

from mock_psp.dialects import registry
from mock_psp.domain import namespace_config
from mock_psp.domain import namespaces
from mock_psp.domain import payments
from mock_psp.domain.payments import PaymentChanges
from mock_psp.runtime.schema import migrations
from mock_psp.runtime.store import Store

OLD_KEYS = {"hs_merchant_id": "merchant_123456789012", "hs_profile_id": "pro_AAAAAAAAAAAAAAAAAAAA",
            "hs_api_key": "snd_" + "a" * 64, "hs_publishable_key": "pk_snd_" + "b" * 32, "hs_hash_key": "h" * 64,
            "govuk_api_key": "api_test_" + "c" * 58, "govuk_webhook_secret": "webhook_test_" + "d" * 40}
# A Hyperswitch decline that GOV.UK's sandbox authorises: the dialect decides what it does.
HYPERSWITCH_DECLINE = "5105105105105100"


def _database_before_m012(path: str) -> None:
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m012_dialect_keys_and_settings")
    db.execute(
        f"""INSERT INTO namespaces (id, is_default, created_at, {', '.join(OLD_KEYS)}, config, seed, dialect_settings)
            VALUES ('ns_old', 0, 1, {', '.join('?' * len(OLD_KEYS))}, ?, 7, ?)""",
        [*OLD_KEYS.values(), json.dumps(namespace_config.default_config()),
         json.dumps({"hyperswitch": {"profile_name": "Old shop"}, "govpay_lk": {"service_name": "Old service"}})])
    card = {"last4": "5100", "exp_month": "12", "exp_year": "2035", "test_card": HYPERSWITCH_DECLINE}
    db.execute("""INSERT INTO payments (namespace_id, id, dialect, status, amount, currency, capture_method,
                      payment_method, payment_method_data, client_secret, session_expires_at, created_at, updated_at)
                  VALUES ('ns_old', 'pay_old', 'hyperswitch', 'created', 500, 'USD', 'automatic', 'card', ?,
                          'pay_old_secret_x', 9999999999999, 1, 1)""", [json.dumps({"card": card})])
    db.conn.commit()
    db.conn.close()


def test_keys_settings_and_stored_cards_survive_the_move_to_per_dialect_tables(tmp_path):
    path = str(tmp_path / "old.db")
    _database_before_m012(path)
    store = Store(path)
    try:
        namespace = namespaces.get(store, "ns_old")
        assert namespace.keys_of("hyperswitch") == {
            "merchant_id": OLD_KEYS["hs_merchant_id"], "profile_id": OLD_KEYS["hs_profile_id"],
            "api_key": OLD_KEYS["hs_api_key"], "publishable_key": OLD_KEYS["hs_publishable_key"],
            "payment_response_hash_key": OLD_KEYS["hs_hash_key"]}
        assert namespace.keys_of("govuk") == {"api_key": OLD_KEYS["govuk_api_key"],
                                              "webhook_signing_secret": OLD_KEYS["govuk_webhook_secret"]}
        derived = hashlib.sha256(f"govpay-lk:ns_old:{OLD_KEYS['govuk_api_key']}".encode()).hexdigest()[:40]
        assert namespace.keys_of("govpay_lk") == {"api_key": f"gplk_{derived}"}  # the key merchants already hold
        assert namespace.settings_of("hyperswitch") == {"profile_name": "Old shop"}
        assert namespace.settings_of("govpay_lk") == {"service_name": "Old service"}
        for dialect_key, name, value in (("hyperswitch", "api_key", OLD_KEYS["hs_api_key"]),
                                         ("govuk", "api_key", OLD_KEYS["govuk_api_key"]),
                                         ("govpay_lk", "api_key", f"gplk_{derived}")):
            assert namespaces.find_by_key(store, dialect_key, name, value).id == "ns_old"
        # The card stored before cards carried their outcome still declines as Hyperswitch's sandbox said.
        confirmed = payments.confirm_payment(store, "ns_old", "pay_old", PaymentChanges())
        assert (confirmed.status, confirmed.failure_reason) == (payments.FAILED, "card_declined")
        # Nothing is made twice: the keys were all there.
        assert namespaces.ensure_keys(store, registry.key_specs()) == 0
    finally:
        store.close()
