"""The OpenAPI document and the docs page load."""

from __future__ import annotations

from fastapi.testclient import TestClient

from flywheel import __version__


def test_openapi_document(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"] == {
        "title": "Flywheel",
        "version": __version__,
        "description": document["info"]["description"],
    }
    assert {"/healthz", "/api/v1/health"} <= set(document["paths"])
    health = document["components"]["schemas"]["Health"]
    assert "schema" in health["properties"]


def test_docs_page(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text
