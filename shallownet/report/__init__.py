"""The HTML report of an analysis and the schema of its ``results.json``."""

from .html import Report, Section
from .schema import SchemaError, validate

__all__ = ["Report", "Section", "validate", "SchemaError"]
