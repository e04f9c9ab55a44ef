"""The modules user code may import, as curated read-only views.

A real module object is an escape hatch: ``json.codecs.sys.modules['os']`` needs no underscore, so
RestrictedPython's attribute guard lets it through. User code therefore never receives a module:
``import json`` gives a ``ModuleView`` holding only the listed, pure names (functions, classes and
constants; never a module). Shared mutable state is not exposed either: ``random`` is a fresh
``random.Random`` per function version (so one tenant's ``seed`` cannot steer another's stream),
and ``hashlib``'s algorithm sets are frozen copies.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import math
import random
import re
import time
import types
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

ALLOWED_MODULES = frozenset({"json", "math", "re", "datetime", "time", "hashlib", "hmac", "base64", "uuid",
                             "random", "urllib.parse"})

_EXPOSED: dict[str, tuple[types.ModuleType, tuple[str, ...]]] = {
    "json": (json, ("dumps", "loads", "JSONDecodeError", "JSONDecoder", "JSONEncoder")),
    "math": (math, (
        "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "comb", "copysign",
        "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp", "exp2", "expm1", "fabs", "factorial",
        "floor", "fmod", "frexp", "fsum", "gamma", "gcd", "hypot", "inf", "isclose", "isfinite", "isinf",
        "isnan", "isqrt", "lcm", "ldexp", "lgamma", "log", "log10", "log1p", "log2", "modf", "nan",
        "nextafter", "perm", "pi", "pow", "prod", "radians", "remainder", "sin", "sinh", "sqrt", "tan",
        "tanh", "tau", "trunc", "ulp")),
    # no purge(): the pattern cache is shared by every version loaded in the worker
    "re": (re, (
        "compile", "search", "match", "fullmatch", "split", "findall", "finditer", "sub", "subn", "escape",
        "error", "Pattern", "Match", "RegexFlag", "NOFLAG", "A", "ASCII", "I", "IGNORECASE", "M",
        "MULTILINE", "S", "DOTALL", "X", "VERBOSE", "U", "UNICODE")),
    "datetime": (datetime, ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "MINYEAR",
                            "MAXYEAR", "UTC")),
    # no sleep (holds a worker for nothing), tzset (process-wide state, reads files),
    # clock_settime (changes the system clock)
    "time": (time, ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
                    "gmtime", "localtime", "mktime", "strftime", "strptime", "asctime", "ctime",
                    "struct_time", "timezone", "altzone", "daylight", "tzname")),
    # no file_digest (takes a file object)
    "hashlib": (hashlib, ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256",
                          "sha3_384", "sha3_512", "shake_128", "shake_256", "blake2b", "blake2s", "new",
                          "pbkdf2_hmac")),
    "hmac": (hmac, ("new", "digest", "compare_digest", "HMAC")),
    # no encode/decode (they take file objects)
    "base64": (base64, (
        "b64encode", "b64decode", "standard_b64encode", "standard_b64decode", "urlsafe_b64encode",
        "urlsafe_b64decode", "b32encode", "b32decode", "b32hexencode", "b32hexdecode", "b16encode",
        "b16decode", "b85encode", "b85decode", "a85encode", "a85decode", "encodebytes", "decodebytes")),
    # no uuid1/getnode: finding the MAC address may run programs or read system files
    "uuid": (uuid, ("UUID", "uuid3", "uuid4", "uuid5", "NAMESPACE_DNS", "NAMESPACE_URL", "NAMESPACE_OID",
                    "NAMESPACE_X500", "SafeUUID", "RESERVED_NCS", "RFC_4122", "RESERVED_MICROSOFT",
                    "RESERVED_FUTURE")),
    "urllib.parse": (urllib.parse, (
        "quote", "quote_plus", "quote_from_bytes", "unquote", "unquote_plus", "unquote_to_bytes",
        "urlencode", "urlparse", "urlunparse", "urlsplit", "urlunsplit", "urljoin", "urldefrag",
        "parse_qs", "parse_qsl", "ParseResult", "SplitResult", "DefragResult", "ParseResultBytes",
        "SplitResultBytes", "DefragResultBytes")),
}

# Bound methods of the per-version ``random.Random``; the classes are exposed as well.
_RANDOM_METHODS = ("random", "uniform", "triangular", "randint", "randrange", "randbytes", "choice",
                   "choices", "sample", "shuffle", "seed", "getrandbits", "getstate", "setstate", "gauss",
                   "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate", "gammavariate",
                   "betavariate", "paretovariate", "weibullvariate")


class ModuleView(types.SimpleNamespace):
    """A read-only stand-in for an allowed module."""

    def __init__(self, name: str, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            if isinstance(value, types.ModuleType) and not isinstance(value, ModuleView):
                raise TypeError(f"{name}.{key} is a module; views must never hold one")
        super().__init__(**attributes)
        object.__setattr__(self, "_ModuleView__name", name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"module {self.__name!r} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"module {self.__name!r} is read-only")

    def __repr__(self) -> str:
        return f"<module {self.__name!r}>"


class ModuleCatalog:
    """Builds the views once per worker; ``importer`` gives each function version its ``__import__``."""

    def __init__(self) -> None:
        self._shared: dict[str, ModuleView] = {}
        for name, (module, names) in _EXPOSED.items():
            attributes = {n: getattr(module, n) for n in names if hasattr(module, n)}
            if name == "hashlib":
                attributes["algorithms_available"] = frozenset(hashlib.algorithms_available)
                attributes["algorithms_guaranteed"] = frozenset(hashlib.algorithms_guaranteed)
            self._shared[name] = ModuleView(name, attributes)

    def views_for_version(self) -> dict[str, ModuleView]:
        """Views for one function version: the shared ones plus its own ``random`` and ``urllib``."""
        generator = random.Random()
        attributes: dict[str, Any] = {n: getattr(generator, n) for n in _RANDOM_METHODS
                                      if hasattr(generator, n)}
        attributes["Random"] = random.Random
        attributes["SystemRandom"] = random.SystemRandom
        views = dict(self._shared)
        views["random"] = ModuleView("random", attributes)
        views["urllib"] = ModuleView("urllib", {"parse": self._shared["urllib.parse"]})
        return views

    def importer(self, views: Mapping[str, ModuleView]) -> Any:
        """An ``__import__`` that only hands out ``views`` (absolute imports of allowed names)."""

        def restricted_import(name: str, globals: object = None, locals: object = None,
                              fromlist: object = (), level: int = 0) -> ModuleView:
            if level != 0:
                raise ImportError("relative imports are not allowed")
            if name in views and (name in ALLOWED_MODULES or name == "urllib"):
                # `import urllib.parse` binds the top-level name; `from urllib.parse import x` wants the leaf
                return views[name] if fromlist else views[name.partition(".")[0]]
            raise ImportError(f"import of {name!r} is not allowed; allowed modules: "
                              f"{', '.join(sorted(ALLOWED_MODULES))}")

        return restricted_import
