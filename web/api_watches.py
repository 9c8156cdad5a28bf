"""/api/v1/import-watches: the paths `tracker run` re-imports when they change, per person (the Data page's
"Watched folders"), added only under `[import] watch_roots` (tracker.import_watches checks the resolved path).

Routes on the API blueprint (web.api imports this module last); errors as everywhere in the API: 400 no
roots configured or bad input, 404 another account's watch or person, 409 already watched, 422 a path
outside the roots (`errors.path` says which roots are allowed).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from tracker.import_watches import WatchInfo
from tracker.sessions import ValidationError
from web.api import _json_object, _person, bp
from web.context import services, user_id


def _watch_json(w: WatchInfo) -> dict[str, Any]:
    return w.to_dict() | {"url": url_for("api.get_import_watch", watch_id=w.id)}


@bp.get("/import-watches")
def list_import_watches() -> Response:
    """The account's watched paths (one person's with `?person=`), the roots they may lie under, the interval."""
    person = _person(request.args.get("person"), required=False) if request.args.get("person") else None
    watches = services().import_watches
    found = watches.list(user_id=user_id(), person_id=person.id if person else None)
    return jsonify({"watch_roots": [str(r) for r in watches.roots],
                    "interval_min": services().config.imports.interval_min,
                    "watches": [_watch_json(w) for w in found]})  # fmt: skip


@bp.post("/import-watches")
def add_import_watch() -> tuple[Response, int, dict[str, str]]:
    data = _json_object()
    path = data.get("path")
    if not isinstance(path, str):
        raise ValidationError({"path": "path is required: a Gadgetbridge export file or a folder of FIT files"})
    person = _person(data.get("person"))
    assert person is not None
    info = services().import_watches.add(person.id, path, user_id=user_id())
    body = _watch_json(info)
    return jsonify(body), 201, {"Location": body["url"]}


@bp.get("/import-watches/<int:watch_id>")
def get_import_watch(watch_id: int) -> Response:
    return jsonify(_watch_json(services().import_watches.get(watch_id, user_id=user_id())))


@bp.delete("/import-watches/<int:watch_id>")
def remove_import_watch(watch_id: int) -> Response:
    """Stop watching; what it imported stays (each import run can be undone)."""
    return jsonify(_watch_json(services().import_watches.remove(watch_id, user_id=user_id())))
