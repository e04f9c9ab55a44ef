"""The one writer of a value at a path inside a JSON document, as the reference's ``set`` does.

Every reference destination whose hooks write dotted paths does it with the ``set-value`` 4
package: directly (am, fb, customerio) or through ``@rudderstack/integrations-lib``'s
``setValue`` (what ``extractCustomFields`` and ``addExternalIdToTraits`` call). Both split a
path the same way (``split_set_value_path``: "." separates, "\\" escapes, a path holding "/" is
one key, an integral part is a number) and build the same structure:

* a missing or non-object parent becomes ``{}``, or ``[]`` when the next part is a number;
* a number part of an object is its JavaScript string (``"a.1e3"`` sets ``a["1000"]``);
* a number part of an array is an index; the array grows with holes (``UNDEFINED``, which
  JSON prints as null); a negative index or a name on an array is a property JSON leaves out;
* an undefined value (``UNDEFINED``) deletes the key (or leaves a hole in an array).

They differ only on a part naming an object's prototype ("__proto__", "constructor",
"prototype"): set-value throws, integrations-lib writes the whole path as one flat key (what the
reference's ga4 test with a "constructor.prototype.x" property shows; integrations-lib's source
is not at hand). Bracket paths (lodash's ``a[0].b``) are not a notation of either: ``"ud[em]"``
is one key. The mapping compiler writes plain output keys only, so it needs no writer.
"""

from __future__ import annotations

from enum import Enum
from functools import lru_cache
from typing import Any

from transformer._errors import InstrumentationError

from ._js import UNDEFINED, is_present, js_get, number_to_string
from ._paths import path_get, split_set_value_path

#: Path parts naming an object's prototype, which both flavours refuse to walk.
UNSAFE_KEYS = frozenset({"__proto__", "constructor", "prototype"})
#: JavaScript's largest array index; a larger number names a property JSON leaves out.
_MAX_INDEX = 2**32 - 2
#: How far past an array's end a write may reach. JavaScript would allocate (and print) every
#: hole up to a far index; an event naming "a.99999999" must not cost that memory, so such a
#: write is dropped.
_MAX_GAP = 10_000


class SetFlavour(Enum):
    """Which reference helper a destination's ``set`` is."""

    #: The set-value package: a path part naming the prototype fails the event.
    SET_VALUE = "set-value"
    #: integrations-lib's setValue: a path with such a part is written as one flat key.
    INTEGRATIONS_LIB = "integrations-lib"


@lru_cache(maxsize=4096)
def _parts(path: str) -> tuple[str | int, ...]:
    """``path`` split once per distinct path: the same trait names recur event after event."""
    return tuple(split_set_value_path(path))


def js_set(target: Any, path: str, value: Any, flavour: SetFlavour = SetFlavour.SET_VALUE) -> None:
    """``set(target, path, value)`` of ``flavour`` (see the module): ``target`` is changed in
    place; nothing happens without a path or when ``target`` is not an object or array.

    Raises InstrumentationError for a set-value path with a part naming the prototype (the
    reference crashes; no retry could help, so the event is refused as malformed)."""
    if not path or not isinstance(target, dict | list):
        return
    parts = _parts(path)
    if not parts:
        return
    if len(parts) == 1 and type(parts[0]) is str and isinstance(target, dict) \
            and parts[0] not in UNSAFE_KEYS:  # one plain key: most writes
        _assign(target, parts[0], value)
        return
    unsafe = next((p for p in parts if type(p) is str and p in UNSAFE_KEYS), None)
    if unsafe is not None:
        if flavour is SetFlavour.SET_VALUE:
            raise InstrumentationError(f'Cannot set unsafe key: "{unsafe}"')
        if isinstance(target, dict):
            target[path] = value
        return
    node: Any = target
    last = len(parts) - 1
    for position, part in enumerate(parts):
        if position == last:
            _assign(node, part, value)
            return
        child = _child(node, part)
        if type(parts[position + 1]) is int:
            if not isinstance(child, list):
                child = []
                _assign(node, part, child)
        elif not isinstance(child, dict | list):
            child = {}
            _assign(node, part, child)
        node = child


def add_external_id_to_traits(message: dict[str, Any]) -> None:
    """The reference's ``addExternalIdToTraits``: the first present of traits and
    context.traits gets ``[context.externalId[0].identifierType] = context.externalId[0].id``,
    written by integrations-lib's set (a dotted type nests; a missing id deletes the key);
    nothing when there are no traits or no type. The message is changed, as the reference's."""
    traits = None
    for path in ("traits", "context.traits"):
        traits = path_get(message, path)
        if is_present(traits):
            break
    kind = js_get(message, "context.externalId.0.identifierType")
    if isinstance(traits, dict) and isinstance(kind, str):
        js_set(traits, kind, js_get(message, "context.externalId.0.id", UNDEFINED),
               SetFlavour.INTEGRATIONS_LIB)


def set_dotted(doc: dict[str, Any], key: str, value: Any) -> None:
    """integrations-lib's ``setValue(doc, key, value)``: ``js_set`` of that flavour."""
    js_set(doc, key, value, SetFlavour.INTEGRATIONS_LIB)


def is_plain_key(path: str) -> bool:
    """Whether ``js_set`` writes ``path`` as that one key of an object (no dot, escape or
    number in it, nor a name of the prototype): a caller may then assign it directly."""
    return _parts(path) == (path,) and path not in UNSAFE_KEYS


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part if isinstance(part, str) else number_to_string(part), UNDEFINED)
    if type(part) is int and 0 <= part < len(node):
        return node[part]
    return UNDEFINED


def _assign(node: Any, part: str | int, value: Any) -> None:
    if isinstance(node, dict):
        name = part if isinstance(part, str) else number_to_string(part)
        if value is UNDEFINED:
            node.pop(name, None)
        else:
            node[name] = value
        return
    if type(part) is not int or not 0 <= part <= _MAX_INDEX:
        return  # a property of the array: JSON leaves it out
    if part < len(node):
        node[part] = value
    elif value is not UNDEFINED and part - len(node) <= _MAX_GAP:
        node.extend([UNDEFINED] * (part - len(node)))
        node.append(value)


__all__ = ["UNSAFE_KEYS", "SetFlavour", "add_external_id_to_traits", "is_plain_key", "js_set",
           "set_dotted"]
