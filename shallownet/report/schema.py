"""A small validator for the JSON Schema subset that ``results.json`` uses.

Supported keywords: ``type`` (a name or a list of names among object, array, string, number,
integer, boolean, null), ``properties``, ``required``, ``additionalProperties`` (a boolean or a
schema), ``items``, ``enum``, ``minimum``, ``const``. Enough to pin down a versioned document
without a dependency.
"""

from __future__ import annotations

from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(ValueError):
    """The document does not follow the schema; the message gives the path."""


def validate(document: Any, schema: dict, path: str = "$") -> None:
    """Raise :class:`SchemaError` at the first place ``document`` breaks ``schema``."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES[n](document) for n in names):
            raise SchemaError(f"{path}: expected {' or '.join(names)}, got {type(document).__name__}")
    if "const" in schema and document != schema["const"]:
        raise SchemaError(f"{path}: expected {schema['const']!r}, got {document!r}")
    if "enum" in schema and document not in schema["enum"]:
        raise SchemaError(f"{path}: {document!r} is not one of {schema['enum']}")
    if "minimum" in schema and _TYPES["number"](document) and document < schema["minimum"]:
        raise SchemaError(f"{path}: {document} is below the minimum {schema['minimum']}")
    if isinstance(document, dict):
        for key in schema.get("required", []):
            if key not in document:
                raise SchemaError(f"{path}: missing required key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in document.items():
            if key in props:
                validate(value, props[key], f"{path}.{key}")
            elif extra is False:
                raise SchemaError(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                validate(value, extra, f"{path}.{key}")
    if isinstance(document, list) and "items" in schema:
        for i, value in enumerate(document):
            validate(value, schema["items"], f"{path}[{i}]")
