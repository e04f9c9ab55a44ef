"""The public surface for a destination's ``hooks.py``: everything a hook may import.

A hooks module defines any of these functions (all optional):

``validate(ctx: Context) -> None``
    Runs first for every job, before the config and message-type checks: for what the reference
    rejects up front (e.g. its router's input schema, with ``ctx.mode == "router"``).
``check_config(config: dict) -> None``
    Raise ConfigurationError when the destination config cannot work. Runs for every event,
    after the ``config.required`` keys are checked.
``prepare(ctx: Context) -> None``
    Runs before the mapping; may reject the event (raise) or store values in ``ctx.vars`` for
    ``var:`` fields.
``finish(ctx: Context, output: dict) -> dict | list[dict]``
    Receives the request the mapping built and returns the final one (or several).
``process(ctx: Context) -> dict | list[dict]``
    Replaces the mapping entirely, for destinations whose logic is mostly code.
``process_metadata(ctx: Context, output) -> object``
    Returns the metadata to send back for this job when the destination must rewrite it.
``batch(done: list[tuple[Job, output]]) -> list[Batch]``
    Router mode: groups transformed jobs into batched requests. Without it, each job is sent
    on its own. Every job must end up in exactly one Batch.

A hook builds the destination's ``tables:`` (named object mappings of destination.yaml) with
``ctx.build(name)``, or ``ctx.build(name, doc)`` to read the paths in another document.

Hooks must not mutate ``ctx.destination`` (it is shared by the jobs of a request); the message is
the job's own and may be changed.
"""

from transformer._batching import group_and_chunk, json_size, sort_by_min_job_id
from transformer._destination import Batch, Job, chunks, empty_request, rest_request
from transformer._errors import (
    ConfigurationAuthError,
    ConfigurationError,
    FilteredEvent,
    InstrumentationError,
    PlatformError,
    RetryableError,
    TransformationError,
    TransformerError,
    UnexpectedError,
)
from transformer.mapping import (
    APPLE_FAMILY,
    JS_WHITESPACE,
    UNDEFINED,
    UNSAFE_KEYS,
    Context,
    HandlebarsError,
    add_external_id_to_traits,
    epoch_ms,
    epoch_seconds,
    external_id,
    extract_custom_fields,
    first_present,
    flatten,
    flatten_json,
    generic_value,
    hash_from_array,
    hash_from_array_with_duplicates,
    integrations_object,
    is_apple_family,
    is_array_index,
    is_blank,
    is_email,
    is_present,
    is_truthy,
    js_add,
    js_date_ms,
    js_get,
    js_keys,
    js_or,
    js_own,
    js_prop,
    js_trim,
    lodash_is_empty,
    lodash_to_string,
    ms_to_iso,
    normalize_number,
    number_to_string,
    object_keys,
    parse_date,
    parse_float,
    parse_int,
    path_get,
    path_keys,
    phone_digits,
    render_handlebars,
    same_value_key,
    set_dotted,
    sha256_binary,
    sha256_utf8,
    split_set_value_path,
    spread,
    stringify,
    to_epoch_ms,
    to_fixed,
    to_iso,
    to_number,
    to_seconds,
    to_string,
    unique_by,
    without_blanks,
    without_nulls,
    without_undefined,
)

__all__ = [
    "APPLE_FAMILY",
    "JS_WHITESPACE",
    "UNDEFINED",
    "UNSAFE_KEYS",
    "Batch",
    "ConfigurationAuthError",
    "ConfigurationError",
    "Context",
    "FilteredEvent",
    "HandlebarsError",
    "InstrumentationError",
    "Job",
    "PlatformError",
    "RetryableError",
    "TransformationError",
    "TransformerError",
    "UnexpectedError",
    "add_external_id_to_traits",
    "chunks",
    "empty_request",
    "epoch_ms",
    "epoch_seconds",
    "external_id",
    "extract_custom_fields",
    "first_present",
    "flatten",
    "flatten_json",
    "generic_value",
    "group_and_chunk",
    "hash_from_array",
    "hash_from_array_with_duplicates",
    "integrations_object",
    "is_apple_family",
    "is_array_index",
    "is_blank",
    "is_email",
    "is_present",
    "is_truthy",
    "js_add",
    "js_date_ms",
    "js_get",
    "js_keys",
    "js_or",
    "js_own",
    "js_prop",
    "js_trim",
    "json_size",
    "lodash_is_empty",
    "lodash_to_string",
    "ms_to_iso",
    "normalize_number",
    "number_to_string",
    "object_keys",
    "parse_date",
    "parse_float",
    "parse_int",
    "path_get",
    "path_keys",
    "phone_digits",
    "render_handlebars",
    "rest_request",
    "same_value_key",
    "set_dotted",
    "sha256_binary",
    "sha256_utf8",
    "sort_by_min_job_id",
    "split_set_value_path",
    "spread",
    "stringify",
    "to_epoch_ms",
    "to_fixed",
    "to_iso",
    "to_number",
    "to_seconds",
    "to_string",
    "unique_by",
    "without_blanks",
    "without_nulls",
    "without_undefined",
]
