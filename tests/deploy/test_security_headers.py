"""Every route — API, pages, static files, errors, redirects — carries the security
headers; the CSP allows no inline script; HSTS only over TLS; /metrics is guarded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from nuanliu.api.app import create_app
from nuanliu.config import load_settings
from nuanliu.store import open_store

REQUIRED = {
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
}


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"duckdb:///{tmp_path / 'h.duckdb'}")
    try:
        yield create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
    finally:
        store.close()


def _requests(routes: list[object]) -> list[tuple[str, str]]:
    """(method, path) of every route, routers included (placeholders filled in)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            out += _requests(inner.routes)
        elif isinstance(route, Mount):
            out.append(("GET", route.path + "/app.css"))
        elif getattr(route, "methods", None):
            path = re.sub(r"\{[^}]+\}", "x1", route.path)  # type: ignore[attr-defined]
            out += [(m, path) for m in sorted(route.methods)]  # type: ignore[attr-defined]
    return sorted(set(out))


def test_every_route_has_the_security_headers(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    requests = _requests(app.routes)
    assert len(requests) > 30
    seen_status = set()
    for method, path in requests:
        r = client.request(method, path)
        seen_status.add(r.status_code)
        missing = REQUIRED - set(r.headers)
        assert not missing, f"{method} {path} ({r.status_code}) lacks {missing}"
        assert r.headers["x-content-type-options"] == "nosniff"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        if not path.startswith(("/docs", "/redoc")):
            script = re.search(r"script-src ([^;]+)", csp)
            assert script and script.group(1).strip() == "'self'", f"{path}: {csp}"
        assert "strict-transport-security" not in r.headers  # plain HTTP here
    # redirects, refusals and not-found answers carry them too, not only 200s
    assert {200, 303} <= seen_status and seen_status & {401, 403, 404, 405, 422}


def test_hsts_over_tls_and_for_a_trusted_proxy(app) -> None:  # type: ignore[no-untyped-def]
    r = TestClient(app, base_url="https://testserver").get("/healthz")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script() -> None:
    templates = Path(__file__).resolve().parents[2] / "src/nuanliu/web/templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: {tag}"
        assert not re.search(r"\son[a-z]+=\"", text), f"{path.name}: inline event handler"


def test_metrics_allow_list_and_token(tmp_path: Path) -> None:
    token = "t0ken-" + "x" * 30
    env = {
        "NUANLIU_DATA_DIR": str(tmp_path),
        "NUANLIU_METRICS_TOKEN": token,
        "NUANLIU_METRICS_ALLOW": "10.1.0.0/16",
    }
    with open_store(f"duckdb:///{tmp_path / 'm.duckdb'}") as store:
        app = create_app(load_settings(env), store=store)
        inside = TestClient(app, client=("10.1.2.3", 1234))
        outside = TestClient(app, client=("192.0.2.7", 1234))
        assert inside.get("/metrics").status_code == 200
        refused = outside.get("/metrics")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
        wrong = outside.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = outside.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "nuanliu_dead_letters_pending" in ok.text
