"""Recognise what a file is from its first bytes (and, for a zip, its member names), never from trust in
its extension alone: a Gadgetbridge database, an Apple Health export (zip or xml), a Garmin FIT file, or CSV."""

from __future__ import annotations

import zipfile
from pathlib import Path

GADGETBRIDGE = "gadgetbridge"
APPLE_ZIP = "apple-health-zip"
APPLE_XML = "apple-health-xml"
FIT = "fit"
CSV = "csv"
APPLE_MEMBER = "apple_health_export/export.xml"


def is_fit_header(head: bytes) -> bool:
    # FIT file header: size byte 12 or 14, then ".FIT" at bytes 8-11 (FIT protocol, "File Header")
    return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"


def apple_member(path: Path) -> str | None:
    """The export.xml member of an Apple Health zip (Apple names it apple_health_export/export.xml)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    for name in names:
        if name == APPLE_MEMBER or (name.endswith("/export.xml") and "cda" not in name) or name == "export.xml":
            return name
    return None


def detect(path: Path) -> str | None:
    """The kind of one file, or None when it is none of the formats this program reads."""
    from tracker.importers.gadgetbridge import SQLITE_MAGIC, looks_like_gadgetbridge

    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return None
    if head.startswith(SQLITE_MAGIC):
        return GADGETBRIDGE if looks_like_gadgetbridge(path) else None
    if is_fit_header(head):
        return FIT
    if head.startswith(b"PK\x03\x04"):
        return APPLE_ZIP if apple_member(path) else None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml") or text.startswith(b"<!DOCTYPE"):
        return APPLE_XML if b"HealthData" in head or path.name == "export.xml" else None
    if path.suffix.lower() == ".csv":
        return CSV
    return None


def is_importable_head(head: bytes) -> bool:
    """From a file's first bytes: one of the non-CSV formats (the web upload keeps these on disk, not in memory)."""
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return (head.startswith(b"SQLite format 3\x00") or head.startswith(b"PK\x03\x04") or is_fit_header(head)
            or text.startswith(b"<?xml") or text.startswith(b"<!DOCTYPE"))  # fmt: skip
