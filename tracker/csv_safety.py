"""Formula-safe CSV text fields that still round-trip exactly through the project's own import.

Spreadsheets run a cell that begins with `=`, `+`, `-` or `@` (and, in some, tab or carriage return) as a
formula, so a note `=HYPERLINK(...)` in an export would execute when opened. OWASP's advice is to prefix
such a cell with a single quote, which spreadsheets show as text.

To keep the round trip exact, the rule is a bijection on text fields: every free-text field (areas,
therapist, notes) that begins with one of those characters *or with a single quote* gets one more single
quote in front; the importer removes exactly one leading quote from such fields. A note that really begins
with a quote therefore exports as two quotes and imports as one. Numbers and timestamps are written by the
program itself (never text typed by someone) and are not touched, so `-` in them cannot occur at the start
of a text field.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_text(value: str) -> str:
    """The field as exported: a single quote in front when a spreadsheet could read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS + ("'",)) else value


def unescape_text(value: str) -> str:
    """The inverse of `escape_text` (what the importer stores)."""
    return value[1:] if value.startswith("'") else value
