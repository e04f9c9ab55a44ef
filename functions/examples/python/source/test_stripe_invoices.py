"""Tests of stripe_invoices.py, run in the transformer's own sandbox by its pytest plugin (fixture
`run_function`; paths are resolved against this folder)."""

import json

from functions.testing import assert_matches


def delivery(payload):
    return {"method": "POST", "path": "/hook", "headers": {}, "query": {}, "body": json.dumps(payload)}


def test_sample_deliveries_give_the_expected_results(run_function):
    """Each delivery in events.json gives the result expected.json has for it."""
    result = run_function("stripe_invoices.py", "events.json", settings="settings.json")
    assert_matches(result, "expected.json")


def test_paid_invoice_becomes_a_track_event(run_function):
    """An invoice.paid webhook becomes one track event with the amount in currency units."""
    paid = {"id": "evt_9", "type": "invoice.paid", "data": {"object": {
        "id": "in_9", "customer": "cus_1", "amount_paid": 1250, "currency": "eur"}}}
    result = run_function("stripe_invoices.py", [delivery(paid)])
    [event] = result.outputs
    assert event["event"] == "Invoice Paid"
    assert event["properties"] == {"invoice_id": "in_9", "amount": 12.5, "currency": "EUR"}


def test_other_webhooks_are_ignored(run_function):
    """Other webhook types give no event (298) and say so in the log."""
    result = run_function("stripe_invoices.py", [delivery({"id": "evt_1", "type": "charge.failed"})])
    assert result.status_codes == [298]
    assert result.logs == ["ignored charge.failed"]
