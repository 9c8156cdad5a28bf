"""The Data page: CSV export (a zip of the four files, or one file), CSV import by upload, undo, and the
person's watched folders (paths `tracker run` re-imports when they change; tracker.import_watches).

Uploads are streamed to disk by Werkzeug's form parser (a temporary file per upload above 500 KB, never
the whole body in memory), up to `[web] upload_max_mb` (default 2 GB) for this route only; each file's
stream goes to tracker.csv_import, which streams it into the database: a bad row stops that file with
`file:line: reason`, nothing from it is stored, and the other files still import. The page shows one
result per file (with the kind recognised, even for a failed file), and every import can be undone.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import PurePosixPath, PureWindowsPath

from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from werkzeug.wrappers import Response as BaseResponse

from tracker.errors import Conflict, NotFound, UserError
from tracker.importers import import_saved
from tracker.importers.detect import is_importable_head
from tracker.interchange import EXPORT_HEADERS, FileResult
from tracker.model import RunKind
from tracker.people import PersonInfo
from tracker.sessions import ValidationError
from web.context import selected_person, services, user_id

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
    """The zip of the export files, produced piece by piece (zipfile writes data descriptors when unseekable)."""
    pipe = _Pipe()
    interchange = services().interchange
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in EXPORT_HEADERS:
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


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    person = context.pop("person", None) or selected_person()
    runs = [r for r in services().devices.runs(limit=200, user_id=user_id()) if r.kind == str(RunKind.IMPORT)][:10]
    context.setdefault("results", None)
    upload_max_mb = services().config.web.upload_max_mb
    watches = services().import_watches
    watched = watches.list(user_id=user_id(), person_id=person.id) if isinstance(person, PersonInfo) else []
    return render_template("data.html", person=person, files=list(EXPORT_HEADERS), runs=runs, upload_max_mb=upload_max_mb,
                           watches=watched, watch_roots=[str(r) for r in watches.roots],
                           watch_interval_min=services().config.imports.interval_min, **context), status  # fmt: skip


@bp.get("")
def index() -> tuple[str, int]:
    return _page()


@bp.get("/export.zip")
def export_zip() -> Response:
    person = _person()
    first, last = _export_range(person)
    return _download(_zip_stream(person, first, last), f"{_stem(person)}-export.zip", "application/zip")


@bp.get("/export/<name>")
def export_file(name: str) -> Response:
    if name not in EXPORT_HEADERS:
        abort(404, description=f"no export file {name!r} (one of {', '.join(EXPORT_HEADERS)})")
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
    # This route alone takes large bodies; Werkzeug writes each file part to a temporary file as it
    # arrives (its default stream factory), so the size limit guards the disk, not the memory.
    request.max_content_length = services().config.web.upload_max_mb * 1024 * 1024
    uploads = [f for f in request.files.getlist("files") if f.filename]
    if not uploads:
        return _page(400, person=person, error="Choose at least one CSV file to import.")
    if len(uploads) > MAX_FILES:
        return _page(400, person=person, error=f"At most {MAX_FILES} files at once.")
    csv_import = services().interchange.csv_importer()
    results: list[FileResult] = []
    for index, upload in enumerate(uploads):
        display = display_name(upload.filename, index)
        head = upload.stream.read(1024)
        upload.stream.seek(0)
        if is_importable_head(head):  # Gadgetbridge, Apple Health, FIT: saved to disk, never read into memory
            results.extend(import_saved(services(), person.id, display, upload.save))  # type: ignore[arg-type]
            continue
        results.append(csv_import.import_stream(person, display, upload.stream))
    status = 200 if all(r.error is None for r in results) else 400
    return _page(status, person=person, results=results)


@bp.get("/runs/<int:run_id>/undo")
def undo_confirm(run_id: int) -> tuple[str, int]:
    """What an import stored, shown before anything is deleted."""
    try:
        stored = services().import_runs.stored(run_id, user_id=user_id())
    except NotFound as exc:
        abort(404, description=str(exc))
    except UserError as exc:
        abort(400, description=str(exc))
    return render_template("data_undo.html", person=selected_person(), stored=stored), 200


@bp.post("/runs/<int:run_id>/undo")
def undo(run_id: int) -> tuple[str, int]:
    try:
        done = services().import_runs.undo(run_id, user_id=user_id())
    except NotFound as exc:
        abort(404, description=str(exc))
    except UserError as exc:
        abort(400, description=str(exc))
    message = (f"Import {done.run_id} ({done.origin}) undone: deleted {done.heart_rate} heart-rate, {done.rr} RR, "
               f"{done.sleep} sleep rows and {done.sessions} sessions.")  # fmt: skip
    return _page(200, notice=message)


# -- watched folders ---------------------------------------------------------------------------------


@bp.post("/watches")
def add_watch() -> BaseResponse | tuple[str, int]:
    """Watch a path for the selected person; refused (400/404/409, the page says why) outside watch_roots."""
    person = _person()
    text = request.form.get("path", "")
    try:
        info = services().import_watches.add(person.id, text, user_id=user_id())
    except UserError as exc:
        status = 409 if isinstance(exc, Conflict) else 404 if isinstance(exc, NotFound) else 400
        message = exc.errors.get("path", str(exc)) if isinstance(exc, ValidationError) else str(exc)
        return _page(status, person=person, watch_error=message, watch_path=text[:1024])
    flash(f"Watching {info.path} for {person.name}: `tracker run` imports it when it changes.")
    return redirect(url_for("data.index", person=person.id) + "#watched-folders")


@bp.post("/watches/<int:watch_id>/remove")
def remove_watch(watch_id: int) -> BaseResponse:
    """Stop watching (another account's watch is not found); what it imported stays, each run can be undone."""
    try:
        info = services().import_watches.remove(watch_id, user_id=user_id())
    except NotFound as exc:
        abort(404, description=str(exc))
    flash(f"Stopped watching {info.path}. What it imported stays (undo each import below if you wish).")
    return redirect(url_for("data.index", person=info.person_id) + "#watched-folders")
