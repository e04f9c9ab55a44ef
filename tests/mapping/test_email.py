"""validator.js isEmail with its default options (mapping._email)."""

from __future__ import annotations

import pytest

from transformer.hooks import is_email


@pytest.mark.parametrize("address", [
    "user@example.com", "first.last+tag@sub.example.co", '"quoted user"@example.com',
    "üñí@example.com", "user@xn--bcher-kva.com",
])
def test_valid_addresses(address: str) -> None:
    """Ordinary, quoted, UTF-8 local parts and punycode TLDs are emails."""
    assert is_email(address)


@pytest.mark.parametrize("address", [
    "", "plain", "user@localhost", "user@example.c", "user@exa_mple.com", "user@-example.com",
    "user@example.123", "a..b@example.com", "user@[127.0.0.1]", "user@example.com\n",
    "x" * 65 + "@example.com", "user@" + "a" * 64 + ".com", "user@\uff45xample.com",
])
def test_invalid_addresses(address: str) -> None:
    """Missing or bad domains, TLDs, local parts and length limits are not emails."""
    assert not is_email(address)
