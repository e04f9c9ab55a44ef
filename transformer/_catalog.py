"""Loading destination folders: validate every definition, report all problems at once, compile.

A destination folder holds ``destination.yaml`` and, when a mapping cannot say everything,
``hooks.py``. Built-in folders live in ``transformer/destinations/``; ``--destinations-dir`` adds
more (a folder there with a built-in's name replaces it).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from transformer._destination import (
    BODY_FORMATS,
    Destination,
    EventMapping,
    Hooks,
    MessageTypes,
    RequestTemplate,
    RequiredConfig,
)
from transformer.mapping import (
    Build,
    CompileEnv,
    Context,
    Problems,
    Source,
    Table,
    compile_object,
    compile_value,
    is_field,
    load_aliases,
    source_paths,
)

BUILTIN_DIR = Path(__file__).with_name("destinations")
MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias", "record")
#: The events key whose mapping takes every event, whatever its type (also none).
ANY_TYPE = "*"
TOP_KEYS = frozenset(
    {"name", "definition_name", "implementation", "kind", "description", "config", "request",
     "message_type", "events", "output", "router", "notes", "tables", "event_types"}
)
CONFIG_KEYS = frozenset({"required", "step"})
MESSAGE_TYPE_KEYS = frozenset({"missing", "unsupported", "case_sensitive", "step", "before_config",
                               "extra"})
EVENT_KEYS = frozenset({"body", "request", "checks"})
REQUEST_KEYS = frozenset({"endpoint", "endpoint_path", "method", "headers", "params", "user_id",
                          "format"})


class CatalogError(Exception):
    """One or more destination definitions are invalid; ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid destination definitions:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Catalog:
    """Destinations by lower-case type name."""

    destinations: Mapping[str, Destination]

    def get(self, name: str) -> Destination | None:
        return self.destinations.get(name.lower())

    def __len__(self) -> int:
        return len(self.destinations)


def load_catalog(extra_dirs: Iterable[Path] = ()) -> Catalog:
    """Every built-in destination plus those in ``extra_dirs``; raises CatalogError."""
    folders: dict[str, Path] = {}
    for root in (BUILTIN_DIR, *extra_dirs):
        if not root.is_dir():
            raise CatalogError([f"{root}: not a directory"])
        for folder in sorted(root.iterdir()):
            if (folder / "destination.yaml").is_file():
                folders[folder.name.lower()] = folder
    problems: list[str] = []
    loaded: dict[str, Destination] = {}
    for name, folder in folders.items():
        dest = load_destination(folder, problems)
        if dest is not None:
            loaded[name] = dest
    if problems:
        raise CatalogError(problems)
    return Catalog(MappingProxyType(loaded))


def load_destination(folder: Path, problems: list[str]) -> Destination | None:
    """Compile one folder; appends ``file: path: problem`` lines to ``problems``."""
    file = folder / "destination.yaml"
    try:
        spec = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{file}: {exc}")
        return None
    if not isinstance(spec, dict):
        problems.append(f"{file}: expected a mapping at the top level")
        return None
    found = Problems()
    hooks = _load_hooks(folder, found)
    dest = _compile(spec, folder.name, hooks, found)
    problems.extend(f"{file}: {p}" for p in found)
    return None if found else dest


def _load_hooks(folder: Path, problems: Problems) -> Hooks:
    path = folder / "hooks.py"
    if not path.is_file():
        return Hooks({})
    if (folder.parent == BUILTIN_DIR):
        module_name = f"transformer.destinations.{folder.name}.hooks"
    else:
        module_name = f"transformer_user_destinations.{folder.name}.hooks"
    try:
        if module_name in sys.modules:
            module = sys.modules[module_name]
        else:
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    except Exception as exc:  # a user folder's hooks may fail to import in any way
        problems.add("hooks.py", f"failed to import: {type(exc).__name__}: {exc}")
        return Hooks({})
    return Hooks(vars(module))


def _compile(spec: dict[str, Any], folder_name: str, hooks: Hooks, problems: Problems) -> Destination:
    for key in spec:
        if key not in TOP_KEYS:
            problems.add(str(key), f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})")
    name = spec.get("name")
    if not isinstance(name, str) or name.lower() != folder_name.lower():
        problems.add("name", f"must be the folder name {folder_name!r}")
    kind = spec.get("kind", "http")
    if kind not in ("http", "stream"):
        problems.add("kind", "must be http or stream")
    implementation = spec.get("implementation", "native")
    if implementation not in ("native", "cdkV2"):
        problems.add("implementation", "must be native or cdkV2")
    env = CompileEnv(aliases=load_aliases(), hooks=hooks.functions)

    config = spec.get("config") or {}
    if not isinstance(config, dict):
        problems.add("config", "expected a mapping")
        config = {}
    for key in config:
        if key not in CONFIG_KEYS:
            problems.add(f"config.{key}", f"unknown key (allowed: {', '.join(sorted(CONFIG_KEYS))})")
    required = _compile_required(config.get("required", []), problems)
    config_step = config.get("step", "")
    if not isinstance(config_step, str):
        problems.add("config.step", "expected the name of the workflow step of config errors")
        config_step = ""
    types = _compile_message_types(spec.get("message_type"), kind, problems)
    known_types = (*MESSAGE_TYPES, *types.extra)

    base = _compile_request(spec.get("request") or {}, env, "request", problems)
    events: dict[str, EventMapping] = {}
    raw_events = spec.get("events") or {}
    if not isinstance(raw_events, dict):
        problems.add("events", "expected a mapping of message type to mapping")
        raw_events = {}
    output = None
    if "output" in spec:
        if kind != "stream" or not isinstance(spec["output"], dict) or raw_events:
            problems.add("output", "only a stream destination has output, a mapping, "
                                   "instead of events")
        else:
            output = compile_object(spec["output"], env, "output", problems)
    if not raw_events and output is None and hooks.process is None:
        problems.add("events", "map at least one message type, or define process() in hooks.py")
    for kind_name, event_spec in raw_events.items():
        where = f"events.{kind_name}"
        if kind_name not in known_types and kind_name != ANY_TYPE:
            problems.add(where, f"unknown message type (known: {', '.join(known_types)}, or "
                                f"{ANY_TYPE} for every event whatever its type; others go in "
                                f"message_type.extra)")
            continue
        if kind_name == ANY_TYPE and len(raw_events) > 1:
            problems.add(where, f"{ANY_TYPE} takes every type: it is the only event mapping")
        if isinstance(event_spec, str):  # `page: track` reuses another type's mapping
            continue
        if not isinstance(event_spec, dict):
            problems.add(where, "expected a mapping with body and/or request")
            continue
        for key in event_spec:
            if key not in EVENT_KEYS:
                problems.add(f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(EVENT_KEYS))})")
        body = _compile_body(event_spec.get("body"), env, f"{where}.body", problems)
        checks = _compile_checks(event_spec.get("checks", []), env, f"{where}.checks", problems)
        override = _compile_request(event_spec.get("request") or {}, env, f"{where}.request",
                                    problems)
        events[kind_name] = EventMapping(body=body, request=base.merged(override), checks=checks)
    for kind_name, event_spec in raw_events.items():
        if isinstance(event_spec, str):
            if event_spec in events:
                events[kind_name] = events[event_spec]
            else:
                problems.add(f"events.{kind_name}", f"refers to unmapped type {event_spec!r}")

    tables = _compile_tables(spec.get("tables") or {}, env, problems)
    documented = _event_types(spec.get("event_types"), known_types, bool(events), problems)

    router = spec.get("router") or {}
    if not isinstance(router, dict):
        problems.add("router", "expected a mapping")
        router = {}
    for key in router:
        if key not in ("batch_size", "failures"):
            problems.add(f"router.{key}", "unknown key (allowed: batch_size, failures)")
    batch_size = router.get("batch_size", 0)
    if not isinstance(batch_size, int) or batch_size < 0:
        problems.add("router.batch_size", "expected a non-negative integer")
        batch_size = 0
    failures = router.get("failures", "in_order")
    if failures not in ("in_order", "first"):
        problems.add("router.failures", "must be in_order or first (batching destinations put "
                                        "failures last)")

    return Destination(
        name=folder_name.lower(),
        definition_name=str(spec.get("definition_name") or folder_name.upper()),
        implementation=implementation,
        kind=kind,
        description=str(spec.get("description", "")),
        required_config=required,
        request=base,
        events=events,
        hooks=hooks,
        batch_size=batch_size,
        router_failures_first=failures == "first",
        notes=str(spec.get("notes", "")),
        message_types=tuple(events) or documented,
        output=output,
        types=types,
        config_step=config_step,
        tables=tables,
    )


def _event_types(spec: Any, known: tuple[str, ...], mapped: bool,
                 problems: Problems) -> tuple[str, ...]:
    """``event_types:``: for the catalog, the message types a destination whose events are built
    by a ``process`` hook accepts (a mapped destination's are its ``events``)."""
    if spec is None:
        return ()
    if mapped:
        problems.add("event_types", "only for a process() destination: the events mapping "
                                    "already says which types are accepted")
        return ()
    if not isinstance(spec, list) or not spec or not all(isinstance(t, str) for t in spec):
        problems.add("event_types", "expected a non-empty list of message types")
        return ()
    unknown = [t for t in spec if t not in known]
    if unknown:
        problems.add("event_types", f"unknown message types {unknown} (known: {', '.join(known)})")
    return tuple(spec)


def _compile_tables(spec: Any, env: CompileEnv, problems: Problems) -> Mapping[str, Build]:
    """``tables:``: named object mappings that hooks build with ``ctx.build(name)``, for the
    field tables of destinations whose request is assembled by code."""
    if not isinstance(spec, dict):
        problems.add("tables", "expected a mapping of table name to object mapping")
        return MappingProxyType({})
    tables: dict[str, Build] = {}
    for name, table in spec.items():
        if not isinstance(table, dict) or not table or is_field(table):
            problems.add(f"tables.{name}", "expected an object mapping (output key -> field)")
            continue
        tables[str(name)] = Table(compile_object(table, env, f"tables.{name}", problems),
                                  source_paths(table))
    return MappingProxyType(tables)


def _compile_required(spec: Any, problems: Problems) -> tuple[RequiredConfig, ...]:
    """``config.required``: config keys, or ``{key, message, truthy}`` for the reference's own
    wording and its truthiness test (assertConfig)."""
    if not isinstance(spec, list):
        problems.add("config.required", "expected a list of config keys")
        return ()
    required = []
    for index, item in enumerate(spec):
        where = f"config.required[{index}]"
        if isinstance(item, str):
            required.append(RequiredConfig(item))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            problems.add(where, "expected a config key or {key, message, truthy}")
            continue
        unknown = set(item) - {"key", "message", "truthy"}
        if unknown:
            problems.add(where, f"unknown keys {sorted(unknown)} (allowed: key, message, truthy)")
        message, truthy = item.get("message"), item.get("truthy", False)
        if message is not None and not isinstance(message, str):
            problems.add(f"{where}.message", "expected the error message")
            message = None
        if not isinstance(truthy, bool):
            problems.add(f"{where}.truthy", "expected true or false")
            truthy = False
        required.append(RequiredConfig(item["key"], message, truthy))
    return tuple(required)


def _compile_message_types(spec: Any, kind: str, problems: Problems) -> MessageTypes:
    """``message_type``: how the event's type is checked (messages, case, step, order)."""
    if spec is None:
        return MessageTypes()
    if not isinstance(spec, dict) or kind != "http":
        problems.add("message_type", "expected a mapping (only a destination with events has one)")
        return MessageTypes()
    values: dict[str, Any] = {}
    for key, value in spec.items():
        where = f"message_type.{key}"
        if key not in MESSAGE_TYPE_KEYS:
            problems.add(where, f"unknown key (allowed: {', '.join(sorted(MESSAGE_TYPE_KEYS))})")
        elif key == "extra":
            if isinstance(value, list) and value and all(
                    isinstance(t, str) and t and t.lower() == t for t in value):
                values[key] = tuple(value)
            else:
                problems.add(where, "expected a list of lower-case message types")
        elif key in ("case_sensitive", "before_config"):
            if isinstance(value, bool):
                values[key] = value
            else:
                problems.add(where, "expected true or false")
        elif not isinstance(value, str) or (key != "step" and not value):
            problems.add(where, "expected a message" if key != "step" else "expected a step name")
        elif key in ("missing", "step") and "{" in value:
            problems.add(where, "takes no placeholders")
        elif key == "unsupported" and "{" in value.replace("{type}", "").replace("{type_lower}", ""):
            problems.add(where, "the only placeholders are {type} and {type_lower}")
        else:
            values[key] = value
    return MessageTypes(**values)


def _compile_body(spec: Any, env: CompileEnv, where: str, problems: Problems) -> Build | None:
    """An object mapping, or a field whose value is the body (e.g. ``merge: [...]``)."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        problems.add(where, "expected an object mapping or a field")
        return None
    if not is_field(spec):
        return compile_object(spec, env, where, problems)
    source = compile_value(spec, env, where, problems)

    def body(ctx: Context) -> dict[str, Any]:
        value = source(ctx)
        return value if isinstance(value, dict) else {}

    return body


def _compile_checks(spec: Any, env: CompileEnv, where: str, problems: Problems) -> tuple[Source, ...]:
    """``checks``: fields with ``required``, evaluated in order before the request is built."""
    if not isinstance(spec, list):
        problems.add(where, "expected a list of fields with required")
        return ()
    checks = []
    for index, item in enumerate(spec):
        if not is_field(item) or not item.get("required"):
            problems.add(f"{where}[{index}]", "expected a field with required (a check's value is "
                                              "not sent, only its error)")
            continue
        checks.append(compile_value(item, env, f"{where}[{index}]", problems))
    return tuple(checks)


def _compile_request(spec: Any, env: CompileEnv, where: str, problems: Problems) -> RequestTemplate:
    if not isinstance(spec, dict):
        problems.add(where, "expected a mapping")
        return RequestTemplate()
    for key in spec:
        if key not in REQUEST_KEYS:
            problems.add(f"{where}.{key}", f"unknown key (allowed: {', '.join(sorted(REQUEST_KEYS))})")
    body_format = spec.get("format", "JSON")
    if body_format not in BODY_FORMATS:
        problems.add(f"{where}.format", f"must be one of {', '.join(BODY_FORMATS)}")
        body_format = "JSON"

    def value(key: str) -> Any:
        return compile_value(spec[key], env, f"{where}.{key}", problems) if key in spec else None

    def obj(key: str) -> Any:
        if key not in spec:
            return None
        if not isinstance(spec[key], dict):
            problems.add(f"{where}.{key}", "expected an object mapping")
            return None
        return compile_object(spec[key], env, f"{where}.{key}", problems)

    return RequestTemplate(
        endpoint=value("endpoint"),
        endpoint_path=value("endpoint_path"),
        method=value("method"),
        headers=obj("headers"),
        params=obj("params"),
        user_id=value("user_id"),
        body_format=body_format,
    )
