"""The Data page: CSV export (a zip of the four files, or one file) and CSV import by upload.

Import hands each uploaded file to `Interchange.import_text`, which validates a file whole before writing
anything: a bad row stops that file with `file:line: reason` and the other files still import. The page
shows one result per file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import PurePosixPath, PureWindowsPath

from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from tracker.interchange import HEADERS, FileResult
from tracker.people import PersonInfo
from web.context import selected_person, services

bp = Blueprint("data", __name__, url_prefix="/data")
MAX_FILES = 20


def _person() -> PersonInfo:
    person = selected_person()
    if person is None:
        abort(404, description="this account manages no people yet")
    return person


def _date_arg(name: str) -> dt.date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400, description=f"{name}: {text!r} is not a date (YYYY-MM-DD)")


def _export_range(person: PersonInfo) -> tuple[dt.date | None, dt.date | None]:
    first, last = _date_arg("from"), _date_arg("to")
    if first and last and last < first:
        abort(400, description="to must not be before from")
    return first, last


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink whose bytes are taken out between writes (zipfile streams into it)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip_stream(person: PersonInfo, first: dt.date | None, last: dt.date | None) -> Iterator[bytes]:
    """The zip of the four files, produced piece by piece (zipfile writes data descriptors when unseekable)."""
    pipe = _Pipe()
    interchange = services().interchange
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in HEADERS:
            with zf.open(name, "w", force_zip64=True) as member:
                for piece in interchange.export_chunks(person, name, first, last):
                    member.write(piece.encode("utf-8"))
                    yield pipe.take()
    yield pipe.take()


def _stem(person: PersonInfo) -> str:
    # the name is typed by people; keep the download name to safe characters
    return re.sub(r"[^A-Za-z0-9_-]+", "-", person.name).strip("-") or f"person-{person.id}"


def _download(body: Iterable[bytes], filename: str, mimetype: str) -> Response:
    # Streamed (a generator body): memory stays flat however long the history; the browser shows the bytes
    # arriving, and the Data page's script shows them as progress.
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("")
def index() -> str:
    return render_template("data.html", person=selected_person(), files=list(HEADERS), results=None)


@bp.get("/export.zip")
def export_zip() -> Response:
    person = _person()
    first, last = _export_range(person)
    return _download(_zip_stream(person, first, last), f"{_stem(person)}-export.zip", "application/zip")


@bp.get("/export/<name>")
def export_file(name: str) -> Response:
    if name not in HEADERS:
        abort(404, description=f"no export file {name!r} (one of {', '.join(HEADERS)})")
    person = _person()
    first, last = _export_range(person)
    pieces = (p.encode("utf-8") for p in services().interchange.export_chunks(person, name, first, last))
    return _download(pieces, f"{_stem(person)}-{name}", "text/csv; charset=utf-8")


def display_name(filename: str | None, index: int) -> str:
    """The uploaded file's own name without any client path (also how its format is recognised)."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return name or f"upload-{index + 1}.csv"


@bp.post("/import")
def import_files() -> tuple[str, int]:
    person = _person()
    uploads = [f for f in request.files.getlist("files") if f.filename]
    if not uploads:
        message = "Choose at least one CSV file to import."
        return render_template("data.html", person=person, files=list(HEADERS), results=None, error=message), 400
    if len(uploads) > MAX_FILES:
        message = f"At most {MAX_FILES} files at once."
        return render_template("data.html", person=person, files=list(HEADERS), results=None, error=message), 400
    interchange = services().interchange
    results: list[FileResult] = []
    for index, upload in enumerate(uploads):
        display = display_name(upload.filename, index)
        try:
            text = upload.read().decode("utf-8-sig")  # tolerate a BOM from spreadsheet exports
        except UnicodeDecodeError as exc:
            results.append(
                FileResult(display, "unknown", error=f"{display}: not UTF-8 text ({exc.reason} at byte {exc.start})")
            )
            continue
        results.append(interchange.import_text(person, display, text))
    status = 200 if all(r.error is None for r in results) else 400
    return render_template("data.html", person=person, files=list(HEADERS), results=results), status
