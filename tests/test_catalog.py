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
