"""Tenant isolation inside one worker: versions share a process but nothing else."""

from __future__ import annotations

import random

from sandbox import UncaughtError, WorkerPool
from tests.sandbox.conftest import run_one

TENANT_A = """
SECRET = "tenant-a-secret"
STATE = {"calls": 0}
len = lambda value: -1

def transformEvent(event, metadata):
    STATE["calls"] = STATE["calls"] + 1
    return {"secret": SECRET, "calls": STATE["calls"], "len": len("abc")}
"""

TENANT_B = """
def transformEvent(event, metadata):
    found = {}
    for name in ["SECRET", "STATE"]:
        try:
            found[name] = repr(eval_name(name))
        except NameError:
            found[name] = None
    found["len"] = len("abc")
    return found

def eval_name(name):
    if name == "SECRET":
        return SECRET
    return STATE
"""


def test_module_state_of_one_version_is_invisible_to_another(solo_pool: WorkerPool) -> None:
    """Globals, module state and rebound builtins of one version are absent from another in one worker."""
    assert run_one(solo_pool, TENANT_A).value == {"secret": "tenant-a-secret", "calls": 1, "len": -1}
    assert run_one(solo_pool, TENANT_B).value == {"SECRET": None, "STATE": None, "len": 3}
    assert run_one(solo_pool, TENANT_A).value == {"secret": "tenant-a-secret", "calls": 2, "len": -1}


def test_random_state_is_per_version(solo_pool: WorkerPool) -> None:
    """Seeding random in one version neither steers nor is disturbed by another version."""
    seeded = ("import random\nSEEDED = [False]\n\ndef transformEvent(e, m):\n"
              "    if not SEEDED[0]:\n        random.seed(7)\n        SEEDED[0] = True\n"
              "    return [random.random() for i in range(3)]\n")
    noisy = ("import random\n\ndef transformEvent(e, m):\n    random.seed(1)\n"
             "    return [random.random() for i in range(50)]\n")
    expected = random.Random(7)
    first = run_one(solo_pool, seeded).value
    run_one(solo_pool, noisy)
    second = run_one(solo_pool, seeded).value
    assert first + second == [expected.random() for _ in range(6)]  # type: ignore[operator]


def test_shared_exceptions_cannot_be_tampered_with_for_others(solo_pool: WorkerPool) -> None:
    """A version cannot change the exception classes every version receives."""
    tamper = "def transformEvent(e, m):\n    DropEvent.message = 'hijacked'\n    return 1\n"
    error = run_one(solo_pool, tamper).error
    assert isinstance(error, UncaughtError) and error.exception_type == "TypeError"
    check = "def transformEvent(e, m):\n    return hasattr(DropEvent, 'message')\n"
    assert run_one(solo_pool, check).value is False
