"""Parsing of ids, whole numbers and JSON at the web's boundary: anything else is a 4xx, never a 500.

Python's `str.isdigit()` and regex `\\d` accept "²" and "٣", and Python ints have no upper bound, while
database ids are 32-bit on PostgreSQL: an id is ASCII digits and at most tracker.model.MAX_ID, once for
all views.
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.routing import IntegerConverter

from tracker.model import MAX_ID

ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 1024 * 1024


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits up to MAX_ID; anything else does not match (404)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (werkzeug's signature)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(text: str) -> int | None:
    """A database id from text: ASCII digits, 0 < id <= MAX_ID; None when it is not one."""
    text = text.strip()
    if not ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def parse_whole(text: str) -> int | None:
    """A whole number from text (optional sign, ASCII digits, at most 19 of them), else None."""
    text = text.strip()
    return int(text) if re.fullmatch(r"[+-]?[0-9]{1,19}", text) else None


def json_depth_ok(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets nest at most `limit` deep (counted outside strings), before parsing recurses."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def loads_bounded(raw: bytes) -> Any:
    """JSON within MAX_JSON_BYTES and MAX_JSON_DEPTH, else ValueError with the reason."""
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError(f"the JSON body is larger than {MAX_JSON_BYTES // 1024} KiB")
    if not json_depth_ok(raw):
        raise ValueError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"the body is not JSON ({type(exc).__name__})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
