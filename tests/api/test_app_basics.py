"""The app factory: one error shape everywhere, health, metrics, OpenAPI ids.

None of this depends on the store engine, so it runs on DuckDB only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from nuanliu.api.app import create_app
from nuanliu.config import load_settings
from nuanliu.errors import Conflict
from nuanliu.store import open_store
from tests.api.conftest import World

SHAPE = {"code", "message", "message_zh", "details"}


def test_framework_errors_use_the_error_shape(duck_world: World) -> None:
    c = TestClient(duck_world.app)
    missing = c.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and set(missing.json()["error"]) == SHAPE
    wrong_method = c.delete("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    invalid = c.get(
        "/api/v1/monitoring/cold",
        params={"min_hours": "many"},
        headers=duck_world.auth("operator_a"),
    )
    assert invalid.status_code == 422
    err = invalid.json()["error"]
    assert err["code"] == "invalid_input" and "min_hours" in err["message"]
    assert err["details"][0]["loc"] == ["query", "min_hours"]


def test_unexpected_exception_is_a_plain_500_and_domain_errors_map(duck_world: World) -> None:
    app = duck_world.app

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    @app.get("/clash", include_in_schema=False)
    def clash() -> None:
        raise Conflict("sensor S1 already installed", details={"sensor_id": "S1"})

    c = TestClient(app, raise_server_exceptions=False)
    r = c.get("/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "secret" not in r.text and "Traceback" not in r.text
    conflict = c.get("/clash")
    assert conflict.status_code == 409
    assert conflict.json()["error"] == {
        "code": "conflict",
        "message": "sensor S1 already installed",
        "message_zh": "与现有数据冲突",
        "details": {"sensor_id": "S1"},
    }


def test_health_metrics_and_route_templates(duck_world: World) -> None:
    c = TestClient(duck_world.app)
    health = c.get("/healthz").json()
    assert health["status"] == "ok" and health["engine"] in ("duckdb", "postgresql")
    hh = duck_world.ids["household_a"]
    c.get(f"/api/v1/registry/households/{hh}", headers=duck_world.auth("regulator"))
    # /metrics answers only the allow-list (loopback by default) or the metrics token
    text = TestClient(duck_world.app, client=("127.0.0.1", 50000)).get("/metrics").text
    assert 'route="/api/v1/registry/{kind}/{record_id}"' in text
    assert hh not in text  # raw ids never become label values
    assert "nuanliu_http_request_duration_seconds_bucket" in text


def test_health_is_503_when_the_store_is_gone(tmp_path: Path) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'gone.duckdb'}")
    store.close()
    app = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
    r = TestClient(app, raise_server_exceptions=False).get("/healthz")
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_error"


def test_apps_are_independent_and_operation_ids_unique(duck_world: World, tmp_path) -> None:
    other = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=duck_world.store)
    TestClient(duck_world.app).get("/healthz")
    own = TestClient(other, client=("127.0.0.1", 50000)).get("/metrics").text
    assert 'route="/healthz"' not in own  # the other app's request is not counted here
    spec = duck_world.app.openapi()
    ops = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ops) == len(set(ops)) and "registry_list" in ops and "alerts_acknowledge" in ops
    assert all(op.get("tags") for path in spec["paths"].values() for op in path.values())


def test_every_operation_is_documented() -> None:
    app = create_app(load_settings({"NUANLIU_DB_URL": "duckdb:///:memory:"}))
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    spec = app.openapi()
    missing = [
        f"{method.upper()} {path} ({op['operationId']})"
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if f"`{op['operationId']}`" not in doc or path not in doc
    ]
    assert not missing, f"document in docs/api.md: {missing}"
