"""The OpenAPI document describes every registered /api/v1 rule and method, and is valid 3.1 in shape."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_rule_and_method_is_documented(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")  # public: no sign-in needed
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(rules) >= 5
    for rule in rules:
        path = _openapi_path(rule.rule)
        assert path in doc["paths"], f"{rule.rule} is not in the OpenAPI document"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], f"{method} {rule.rule} is not documented"
    # no documented path that does not exist
    registered = {_openapi_path(r.rule) for r in rules}
    assert set(doc["paths"]) == registered


def test_path_parameters_and_refs_resolve(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for name in re.findall(r"{([a-z_]+)}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in item.get("parameters", [])), path
    text = str(doc)
    for ref in set(re.findall(r"#/components/schemas/([A-Za-z]+)", text)):
        assert ref in doc["components"]["schemas"], ref
