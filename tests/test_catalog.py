"""Loading destination folders: validation reports every problem; user folders extend the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from transformer._catalog import CatalogError, load_catalog
from transformer._clock import FixedClock
from transformer._pipeline import Pipeline

from .helpers import job, request, track


def write(folder: Path, yaml_text: str, hooks: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "destination.yaml").write_text(yaml_text)
    if hooks is not None:
        (folder / "hooks.py").write_text(hooks)
    return folder


def test_builtins_load() -> None:
    """The shipped destinations all validate."""
    assert load_catalog().get("kinesis") is not None


def test_every_problem_is_reported_with_file_and_path(tmp_path: Path) -> None:
    """A broken folder yields one error listing all its problems, each with file and path."""
    write(tmp_path / "broken", """
name: wrong
kind: carrier-pigeon
colour: blue
config: {required: apiKey}
request: {endpoint: {config: 3}, verb: GET}
events:
  track: {body: {a: {generic: nope}}, extra: 1}
  purchase: {body: {}}
  page: screen
""")
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path])
    problems = info.value.problems
    text = "\n".join(problems)
    for fragment in ("name: must be the folder name", "kind: must be http or stream",
                     "colour: unknown key", "config.required: expected a list",
                     "request.endpoint.config: expected a dotted path", "request.verb: unknown key",
                     "events.track.body.a.generic: unknown generic alias",
                     "events.track.extra: unknown key", "events.purchase: unknown message type",
                     "events.page: refers to unmapped type 'screen'"):
        assert fragment in text, text
    assert all(p.startswith(str(tmp_path / "broken" / "destination.yaml")) for p in problems)


def test_hooks_import_failure_is_reported(tmp_path: Path) -> None:
    """A hooks.py that fails to import is a load problem, not a crash."""
    write(tmp_path / "bad", "name: bad\nevents: {track: {body: {a: 1}}}\n", hooks="1/0\n")
    with pytest.raises(CatalogError, match=r"hooks\.py: failed to import: ZeroDivisionError"):
        load_catalog([tmp_path])


def test_user_folder_adds_a_destination_with_hooks(tmp_path: Path) -> None:
    """--destinations-dir folders are compiled like built-ins, hooks included."""
    write(tmp_path / "acme", """
name: acme
definition_name: ACME
config: {required: [apiKey]}
request:
  endpoint: {config: region, default: us, template: "https://{{value}}.acme.test/v1"}
  headers: {Authorization: {config: apiKey, template: "Bearer {{value}}"}}
  user_id: {path: [userId, anonymousId]}
events:
  track:
    body:
      name: {path: event, required: true, apply: shout}
      total: {hook: total}
  page: track
""", hooks="""
from transformer.hooks import Context


def shout(value: object, ctx: Context) -> str:
    return f"{value}!"


def total(ctx: Context) -> int:
    return len(ctx.message.get("properties") or {})
""")
    catalog = load_catalog([tmp_path])
    config = {"ID": "x", "Config": {"apiKey": "k"}}
    reply, _ = Pipeline(catalog).transform(
        request("acme", [job(track(1)), job({"type": "identify"}), job({"type": "track"}),
                         job(track(2), destination={"Config": {}})], config), FixedClock(0))
    ok = __import__("orjson").loads(reply.results[0].output)
    assert ok["endpoint"] == "https://us.acme.test/v1"
    assert ok["headers"] == {"Authorization": "Bearer k"}
    assert ok["body"]["JSON"] == {"name": "Event 1!", "total": 1}
    assert ok["userId"] == "u1"
    assert [r.status_code for r in reply.results] == [200, 400, 400, 400]
    assert reply.results[1].error == "Event type identify is not supported"
    assert reply.results[2].error == 'Missing required value from "event"'
    assert reply.results[3].error == "apiKey is a required field in the destination config"
    assert reply.results[3].stat_tags["errorType"] == "configuration"
    assert reply.results[3].stat_tags["destType"] == "ACME"


def test_a_hook_bug_is_a_500_naming_the_function(tmp_path: Path) -> None:
    """An exception a hook did not mean to raise is reported with its function and line."""
    write(tmp_path / "buggy", "name: buggy\nevents: {track: {body: {a: {hook: oops}}}}\n",
          hooks="def oops(ctx):\n    return {}['missing']\n")
    reply, _ = Pipeline(load_catalog([tmp_path])).transform(
        request("buggy", [job(track())], {"Config": {}}), FixedClock(0))
    result = reply.results[0]
    assert result.status_code == 500
    assert "in oops() at buggy/hooks.py:2" in result.error
    assert "KeyError" in result.error


def test_user_folder_replaces_a_builtin(tmp_path: Path) -> None:
    """A user folder named like a built-in takes its place."""
    write(tmp_path / "kinesis", "name: kinesis\nkind: stream\noutput: {only: {value: mine}}\n")
    reply, _ = Pipeline(load_catalog([tmp_path])).transform(
        request("kinesis", [job(track())], {"Config": {}}), FixedClock(0))
    assert __import__("orjson").loads(reply.results[0].output) == {"only": "mine", "userId": ""}


WORKFLOW = """
name: flow
implementation: cdkV2
message_type:
  step: validateInput
  case_sensitive: true
  before_config: true
  missing: type is missing.
  unsupported: type {type} ({type_lower}) is not supported
config:
  step: validateInput
  required:
    - {key: apiKey, message: apiKey must be supplied., truthy: true}
    - region
request:
  endpoint: https://flow.test
events:
  track:
    checks:
      - {path: event, type: truthy, required: event is required, step: validateTrack}
    body:
      merge:
        - {path: properties, type: [object_assign, without_nulls]}
        - object: {event: {path: event}}
"""
WORDING = ": Workflow: procWorkflow, Step: {step}, ChildStep: undefined, OriginalError: {msg}"


def _errors(catalog_dir: Path, name: str, jobs: list, config: dict) -> list[str]:
    reply, _ = Pipeline(load_catalog([catalog_dir])).transform(
        request(name, jobs, {"Config": config}), FixedClock(0))
    return [r.error or __import__("orjson").loads(r.output)["body"]["JSON"] for r in reply.results]


def test_message_type_rules_config_rules_and_checks(tmp_path: Path) -> None:
    """message_type words and orders the type check; config.required entries carry the
    reference's message and truthiness; checks run before the body; the body may be a field."""
    write(tmp_path / "flow", WORKFLOW)
    good = {"apiKey": "k", "region": "eu"}

    def wrapped(step: str, msg: str) -> str:
        return msg + WORDING.format(step=step, msg=msg)

    assert _errors(tmp_path, "flow", [
        job({"type": "Track"}), job({"type": ""}), job({"type": 5}), job({"type": "track"}),
        job({"type": "track", "event": "E", "properties": {"a": None, "b": 1}})], good) == [
        wrapped("validateInput", "type Track (track) is not supported"),
        wrapped("validateInput", "type is missing."),
        wrapped("validateInput", "type 5 (5) is not supported"),
        wrapped("validateTrack", "event is required"),
        {"b": 1, "event": "E"}]
    # The type comes before the config (before_config), the truthiness of apiKey matters, and a
    # plain entry keeps the service's wording.
    assert _errors(tmp_path, "flow", [job({"type": "page"}), job({"type": "track"})],
                   {"apiKey": 0}) == [
        wrapped("validateInput", "type page (page) is not supported"),
        wrapped("validateInput", "apiKey must be supplied.")]
    assert _errors(tmp_path, "flow", [job({"type": "track"})], {"apiKey": "k"}) == [
        wrapped("validateInput", "region is a required field in the destination config")]


def test_every_type_mapping_takes_events_without_a_type(tmp_path: Path) -> None:
    """events: {"*": ...} maps every event whatever its type, none included."""
    write(tmp_path / "all", 'name: all\nevents:\n  "*": {body: {t: {path: type, keep: empty}}}\n')
    assert _errors(tmp_path, "all", [job({}), job({"type": 5}), job({"type": ""})], {}) == [
        {}, {"t": 5}, {"t": ""}]


def test_new_options_are_validated(tmp_path: Path) -> None:
    """Bad message_type, config and checks entries are reported with their paths."""
    write(tmp_path / "bad", """
name: bad
message_type: {missing: "", unsupported: "type {kind}", colour: red, case_sensitive: "yes"}
config: {required: [{key: apiKey, truthy: "maybe"}, 5], extra: 1}
events:
  track:
    checks: [{path: event}]
    body: 7
  "*": {body: {}}
""")
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path])
    text = "\n".join(info.value.problems)
    for fragment in ("message_type.missing: expected a message",
                     "message_type.unsupported: the only placeholders are {type} and {type_lower}",
                     "message_type.colour: unknown key", "message_type.case_sensitive: expected true",
                     "config.required[0].truthy: expected true or false",
                     "config.required[1]: expected a config key", "config.extra: unknown key",
                     "events.track.checks[0]: expected a field with required",
                     "events.track.body: expected an object mapping or a field",
                     "events.*: * takes every type: it is the only event mapping"):
        assert fragment in text, text


def test_validate_runs_first_and_extra_types_are_mapped(tmp_path: Path) -> None:
    """validate(ctx) runs before the config and type checks (ctx.mode says which RPC);
    message_type.extra lets events map a non-standard type."""
    write(tmp_path / "extra", """
name: extra
message_type: {extra: [groupv2]}
config: {required: [apiKey]}
events:
  groupv2: {body: {g: {path: groupId}}}
""", hooks="""
from transformer.hooks import Context, InstrumentationError


def validate(ctx: Context) -> None:
    if ctx.mode == "router" and not ctx.message.get("userId"):
        raise InstrumentationError("router needs a userId")
""")
    assert _errors(tmp_path, "extra", [job({"type": "GroupV2", "groupId": "g"})], {"apiKey": "k"}) \
        == [{"g": "g"}]
    assert _errors(tmp_path, "extra", [job({"type": "x"})], {}) == [
        "apiKey is a required field in the destination config"]
    reply, _ = Pipeline(load_catalog([tmp_path])).router_transform(
        request("extra", [job({"type": "x"})], {"Config": {}}), FixedClock(0))
    assert [r.error for r in reply.results] == ["router needs a userId"]
    write(tmp_path / "bad" / "x", "name: x\nmessage_type: {extra: [GroupV2]}\nevents: {reset: {}}\n")
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path / "bad"])
    text = "\n".join(info.value.problems)
    assert "message_type.extra: expected a list of lower-case message types" in text
    assert "events.reset: unknown message type" in text


def test_tables_are_built_by_hooks_over_the_event_or_another_document(tmp_path: Path) -> None:
    """``tables:`` compile like bodies; a process hook builds them with ctx.build(name[, doc])."""
    write(tmp_path / "tabled", """
name: tabled
tables:
  user: {id: {path: [userId, anonymousId]}, plan: {config: plan, js_null: true, default_missing: free}}
  item: {sku: {path: sku, required: true}, price: {path: price, type: number}}
""", hooks="""
from transformer.hooks import Context, empty_request


def process(ctx: Context) -> dict:
    output = empty_request()
    items = [ctx.build("item", product) for product in ctx.message["properties"]["products"]]
    output["body"]["JSON"] = {"user": ctx.build("user"), "items": items}
    return output
""")
    catalog = load_catalog([tmp_path])
    products = {"products": [{"sku": "a", "price": "2.5"}, {"sku": "b"}]}
    reply, _ = Pipeline(catalog).transform(request("tabled", [
        job({"type": "track", "anonymousId": "an", "properties": products}),
        job({"type": "track", "userId": "u", "properties": {"products": [{"price": 1}]}},
            destination={"Config": {"plan": None}}),
    ], {"Config": {}}), FixedClock(0))
    body = __import__("orjson").loads(reply.results[0].output)["body"]["JSON"]
    assert body == {"user": {"id": "an", "plan": "free"},
                    "items": [{"sku": "a", "price": 2.5}, {"sku": "b"}]}
    assert reply.results[1].error == 'Missing required value from "sku"'


def test_invalid_tables_are_reported(tmp_path: Path) -> None:
    """A table must be an object mapping; its fields are validated like any other."""
    write(tmp_path / "badtables", """
name: badtables
events: {track: {body: {a: {value: 1}}}}
tables:
  field: {path: userId}
  broken: {a: {path: userId, type: nope}, b: {config: x, default_missing: 1}}
""")
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path])
    text = "\n".join(info.value.problems)
    assert "tables.field: expected an object mapping" in text
    assert "tables.broken.a.type: unknown type 'nope'" in text
    assert "tables.broken.b.default_missing: needs js_null" in text


def test_event_types_document_a_process_destination(tmp_path: Path) -> None:
    """event_types lists a process() destination's types for the catalog, and is validated."""
    hooks = "def process(ctx):\n    return {}\n"
    write(tmp_path / "coded", "name: coded\nevent_types: [identify, track]\n", hooks=hooks)
    assert load_catalog([tmp_path]).destinations["coded"].message_types == ("identify", "track")
    write(tmp_path / "bad" / "one", "name: one\nevent_types: [track, purchase]\n", hooks=hooks)
    write(tmp_path / "bad" / "two", "name: two\nevent_types: [track]\n"
                                    "events: {track: {body: {a: {value: 1}}}}\n")
    with pytest.raises(CatalogError) as info:
        load_catalog([tmp_path / "bad"])
    text = "\n".join(info.value.problems)
    assert "event_types: unknown message types ['purchase']" in text
    assert "event_types: only for a process() destination" in text
