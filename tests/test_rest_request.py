"""rest_request: the reference's request shape for hooks that assemble requests themselves."""

from __future__ import annotations

from transformer.hooks import empty_request, rest_request


def test_rest_request_fills_the_reference_shape() -> None:
    """Endpoint, method, headers, params and the body under its format; the rest as empty."""
    headers = {"A": "b"}
    request = rest_request("https://x/y", {"batch": "[]"}, method="PUT", headers=headers,
                           params={"p": 1}, body_format="JSON_ARRAY")
    assert request == {**empty_request(), "method": "PUT", "endpoint": "https://x/y",
                       "headers": {"A": "b"}, "params": {"p": 1},
                       "body": {"JSON": {}, "JSON_ARRAY": {"batch": "[]"}, "XML": {}, "FORM": {}}}
    assert request["headers"] is headers  # as given: callers share or copy it themselves


def test_endpoint_path_and_body_only_when_given() -> None:
    """endpointPath appears only when passed (even as None); a body of None is sent as null."""
    assert "endpointPath" not in rest_request("e")
    assert rest_request("e", endpoint_path=None)["endpointPath"] is None
    assert rest_request("e")["body"]["JSON"] == {}
    assert rest_request("e", None)["body"]["JSON"] is None
