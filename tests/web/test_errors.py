"""Every failure leaves as {"error": {"code", "message", "details"}} with the mapped status."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from flywheel.errors import (
    Conflict,
    DatabaseNotReady,
    FlywheelError,
    Forbidden,
    InvalidAmount,
    NotFound,
)


class PaymentBody(BaseModel):
    amount: Decimal = Field(gt=0)
    reference: str


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    router = APIRouter(prefix="/api/test")
    raised: dict[str, FlywheelError] = {
        "not-found": NotFound("customer 9 not found", customer_id=9),
        "conflict": Conflict("invoice INV-1 is already paid", invoice="INV-1"),
        "invalid-amount": InvalidAmount("amount must be positive", amount=Decimal("-5.00")),
        "forbidden": Forbidden("not your account"),
        "not-ready": DatabaseNotReady("run `flywheel init`"),
    }

    @router.get("/raise/{name}")
    def raise_domain_error(name: str) -> None:
        raise raised[name]

    @router.post("/payments")
    def take_payment(body: PaymentBody) -> dict[str, str]:
        return {"amount": str(body.amount)}

    @router.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        (
            "not-found",
            404,
            {"code": "not_found", "message": "customer 9 not found", "details": {"customer_id": 9}},
        ),
        (
            "conflict",
            409,
            {
                "code": "conflict",
                "message": "invoice INV-1 is already paid",
                "details": {"invoice": "INV-1"},
            },
        ),
        (
            "invalid-amount",
            422,
            {
                "code": "invalid_amount",
                "message": "amount must be positive",
                "details": {"amount": "-5.00"},
            },
        ),
        ("forbidden", 403, {"code": "forbidden", "message": "not your account", "details": {}}),
        (
            "not-ready",
            503,
            {"code": "database_not_ready", "message": "run `flywheel init`", "details": {}},
        ),
    ],
)
def test_domain_error_mapped_to_status_and_shape(
    client: TestClient, name: str, status: int, error: dict[str, object]
) -> None:
    response = client.get(f"/api/test/raise/{name}")

    assert response.status_code == status
    assert response.json() == {"error": error}
    assert response.headers["X-Request-ID"]


def test_validation_error_shape(client: TestClient) -> None:
    response = client.post("/api/test/payments", json={"amount": "-1", "password": "s3cret"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"].startswith("the request is not valid: body.amount: ")
    problems = error["details"]["errors"]
    assert [(p["location"], p["type"]) for p in problems] == [
        (["body", "amount"], "greater_than"),
        (["body", "reference"], "missing"),
    ]
    assert all(p["message"] for p in problems)
    assert "s3cret" not in response.text


def test_malformed_json_is_a_validation_error(client: TestClient) -> None:
    response = client.post(
        "/api/test/payments", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


def test_unexpected_error_is_500_without_stack_trace(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    response = client.get("/api/test/crash", headers={"X-Request-ID": "crash-1"})

    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "crash-1"
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "an unexpected error occurred; "
            "the server log has the details under this request id",
            "details": {"request_id": "crash-1"},
        }
    }
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    [failure] = [entry for entry in logged if entry["logger"] == "flywheel.web"]
    assert failure["request_id"] == "crash-1"
    assert failure["level"] == "ERROR"
    assert "RuntimeError" in failure["exc"]
    [access] = [entry for entry in logged if entry["logger"] == "flywheel.web.access"]
    assert (access["status"], access["request_id"]) == (500, "crash-1")


def test_unknown_path_and_wrong_method_use_the_same_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/no-such-thing")
    wrong_method = client.delete("/healthz")

    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "Not Found", "details": {}}}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert wrong_method.headers["Allow"] == "GET"
