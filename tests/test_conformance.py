"""Every visible reference case of every supported destination passes (semantically).

The cases live in ../shared/conformance (never in this repository); without them these tests skip.
"""

from __future__ import annotations

import pytest

from transformer._catalog import Catalog, load_catalog
from transformer._conformance import load_cases, run_case
from transformer.v1 import transformer_pb2_grpc as pb_grpc

from .conftest import CASES_DIR, requires_cases

#: Case id -> why it cannot pass. Keep this short; every entry is a debt.
KNOWN_EXCEPTIONS: dict[str, str] = {}

SUPPORTED = sorted(load_catalog().destinations)


@requires_cases()
@pytest.mark.parametrize("destination", SUPPORTED)
def test_destination_passes_its_cases(destination: str, stub: pb_grpc.TransformerStub,
                                      catalog: Catalog) -> None:
    """All of the destination's cases are semantically equal to the reference's responses."""
    cases = load_cases(CASES_DIR, [destination])
    if not cases:
        pytest.skip(f"no conformance cases for {destination}")
    failures = []
    for case in cases:
        result = run_case(stub, case, catalog)
        if not result.semantic and case["id"] not in KNOWN_EXCEPTIONS:
            failures.append(f"{result.id}: {result.detail}")
    assert not failures, "\n".join(failures)


@requires_cases()
def test_conformance_cli_json_shape() -> None:
    """`transformer conformance --json` prints per-destination and total counts."""
    from click.testing import CliRunner

    from transformer.cli import main

    out = CliRunner().invoke(main, ["conformance", str(CASES_DIR), "--destination", "kinesis",
                                    "--json"])
    assert out.exit_code == 0, out.output
    import orjson

    report = orjson.loads(out.output)
    assert report["destinations"]["kinesis"] == {"cases": 5, "strict": 5, "semantic": 5,
                                                 "supported": True}
    assert report["totals"] == {"cases": 5, "strict": 5, "semantic": 5}
