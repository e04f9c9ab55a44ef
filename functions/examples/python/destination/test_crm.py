"""Tests of crm.py, run in the transformer's own sandbox by its pytest plugin (fixture
`run_function`; paths are resolved against this folder)."""

from functions.testing import assert_matches

SETTINGS = {"apiKey": "k", "baseUrl": "https://crm.test"}


def test_sample_events_give_the_expected_results(run_function):
    """Each event in events.json gives the request expected.json has for it."""
    result = run_function("crm.py", "events.json", settings="settings.json")
    assert_matches(result, "expected.json")


def test_identify_becomes_a_contact_upsert(run_function):
    """An identify is a PUT of the contact, authorised with the API key from the settings."""
    identify = {"type": "identify", "userId": "u1", "context": {"traits": {"email": "a@b.test"}}}
    [request] = run_function("crm.py", [identify], settings=SETTINGS).outputs
    assert (request["method"], request["endpoint"]) == ("PUT", "https://crm.test/contacts/u1")
    assert request["headers"]["Authorization"] == "Bearer k"


def test_identify_without_email_is_rejected(run_function):
    """An identify with no email is a 400 whose error names the function's line."""
    result = run_function("crm.py", [{"type": "identify", "userId": "u1"}], settings=SETTINGS)
    assert result.status_codes == [400]
    assert result.errors == ["ValidationError: identify needs context.traits.email (line 7, in on_identify)"]
