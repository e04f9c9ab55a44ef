"""validator.js ``isEmail`` with its default options, which several destinations' references use
to decide whether an identifier is an email address."""

from __future__ import annotations

import re

from ._js import JS_WHITESPACE

_USER_PART = re.compile(
    r"[a-z0-9!#$%&'*+\-/=?^_`{|}~\u00a1-\ud7ff\uf900-\ufdcf\ufdf0-\uffef]+", re.I)
_QUOTED_USER = re.compile(
    r"(?:[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e\u00a0-\ud7ff\uf900-\ufdcf"
    r"\ufdf0-\uffef]|\\[\x01-\x09\x0b\x0c\x0d-\x7f\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef])*",
    re.I)
_TLD = re.compile(
    r"(?:[a-z\u00a1-\u00a8\u00aa-\ud7ff\uf900-\ufdcf\ufdf0-\uffef]{2,}|xn[a-z0-9-]{2,})", re.I)
_DOMAIN_PART = re.compile(r"[a-z_\u00a1-\uffff0-9-]+", re.I)
_FULL_WIDTH = re.compile(r"[\uff01-\uff5e]")
_DIGITS = re.compile(r"[0-9]+")
_JS_SPACE = re.compile(f"[{re.escape(JS_WHITESPACE)}]")


def _utf16(text: str) -> str:
    """``text`` as JavaScript sees it: a character beyond the BMP as its two surrogates."""
    if all(ord(c) < 0x10000 for c in text):
        return text
    return "".join(
        c if ord(c) < 0x10000 else
        chr(0xD800 + ((ord(c) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(c) - 0x10000) & 0x3FF))
        for c in text)


def is_email(address: str) -> bool:
    """validator.js ``isEmail(address)`` with its default options (UTF-8 local part allowed, a
    TLD required, no IP domain, 64/254 byte limits); lengths and character ranges in UTF-16
    units, as in JavaScript. The caller decides what a value that is no string means."""
    if len(_utf16(address)) > 254:
        return False
    user, at, domain = address.rpartition("@")
    if not at:
        user, domain = "", address
    if len(user.encode("utf-8", "surrogatepass")) > 64 or \
            len(domain.encode("utf-8", "surrogatepass")) > 254:
        return False
    user, domain = _utf16(user), _utf16(domain)
    if not _is_fqdn(domain):
        return False
    if user[:1] == '"' and user[-1:] == '"':
        return _QUOTED_USER.fullmatch(user[1:-1]) is not None
    return all(_USER_PART.fullmatch(part) for part in user.split("."))


def _is_fqdn(domain: str) -> bool:
    """validator.js ``isFQDN`` with isEmail's options (a TLD required, no underscores)."""
    parts = domain.split(".")
    tld = parts[-1]
    if len(parts) < 2 or not _TLD.fullmatch(tld) or _JS_SPACE.search(tld) \
            or _DIGITS.fullmatch(tld):
        return False
    return all(len(part) <= 63 and _DOMAIN_PART.fullmatch(part) and not _FULL_WIDTH.search(part)
               and not part.startswith("-") and not part.endswith("-") and "_" not in part
               for part in parts)
