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

from flask import Blueprint, Response, abort, render_template, request

from tracker.importers import import_saved
from tracker.importers.detect import is_importable_head
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


def _export_texts(person: PersonInfo) -> dict[str, str]:
    first, last = _date_arg("from"), _date_arg("to")
    if first and last and last < first:
        abort(400, description="to must not be before from")
    return services().interchange.export_texts(person, first, last)


def _stem(person: PersonInfo) -> str:
    # the name is typed by people; keep the download name to safe characters
    return re.sub(r"[^A-Za-z0-9_-]+", "-", person.name).strip("-") or f"person-{person.id}"


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("")
def index() -> str:
    return render_template("data.html", person=selected_person(), files=list(HEADERS), results=None)


@bp.get("/export.zip")
def export_zip() -> Response:
    person = _person()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in _export_texts(person).items():
            zf.writestr(name, text.encode("utf-8"))
    return _download(buf.getvalue(), f"{_stem(person)}-export.zip", "application/zip")


@bp.get("/export/<name>")
def export_file(name: str) -> Response:
    if name not in HEADERS:
        abort(404, description=f"no export file {name!r} (one of {', '.join(HEADERS)})")
    person = _person()
    text = _export_texts(person)[name]
    return _download(text.encode("utf-8"), f"{_stem(person)}-{name}", "text/csv; charset=utf-8")


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
        head = upload.stream.read(1024)
        upload.stream.seek(0)
        if is_importable_head(head):  # Gadgetbridge, Apple Health, FIT: saved to disk, never read into memory
            results.extend(import_saved(services(), person.id, display, upload.save))  # type: ignore[arg-type]
            continue
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
