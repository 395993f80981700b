"""Login, sessions, CSRF, tokens, rate limiting and audit, over real stores."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from nuanliu.api.audit import list_events
from nuanliu.api.credentials import needs_rehash
from nuanliu.api.deps import SESSION_COOKIE
from nuanliu.api.sessions import create_session, create_token
from tests.api.conftest import PASSWORD, World


def _login(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/auth/login", json={"username": username, "password": password})


def _session(world: World, who: str, client: TestClient | None = None) -> str:
    """Log ``client`` in without the password round (argon2 is slow by design); the CSRF token."""
    new = create_session(world.store, world.users[who])
    (client or world.client).cookies.set(SESSION_COOKIE, new.session_id)
    return new.csrf_token


def test_json_login_sets_httponly_lax_cookie_and_returns_csrf(world: World) -> None:
    r = _login(world.client, "operator_a")
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["role"] == "enterprise_operator"
    assert body["user"]["scope"] == {"kind": "enterprise", "ids": [world.ids["enterprise_a"]]}
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    me = world.client.get("/api/v1/me").json()
    assert me["username"] == "operator_a" and me["authenticated_via"] == "session"
    assert me["masked_personal_data"] is True


def test_form_login_redirects_only_to_local_next(world: World) -> None:
    world.client.get("/login")  # sets the login form's CSRF cookie
    token = world.client.cookies.get("nuanliu_login_csrf")
    r = world.client.post(
        "/auth/login",
        data={
            "username": "steward_a",
            "password": PASSWORD,
            "next": "/stations?x=1",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/stations?x=1"
    evil = world.client.post(
        "/auth/login",
        data={
            "username": "steward_a",
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert evil.status_code == 303 and evil.headers["location"] == "/"
    bad = world.client.post(
        "/auth/login",
        data={
            "username": "steward_a",
            "password": "wrong-password",
            "next": "/alerts",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert bad.status_code == 303
    assert bad.headers["location"].startswith("/login?error=invalid&next=/alerts")


def test_weak_hash_upgraded_at_login(world: World) -> None:
    def stored_hash() -> str:
        with world.store.read() as q:
            return q.all("SELECT password_hash FROM users WHERE username = 'resident_a'")[0][0]

    assert needs_rehash(stored_hash())
    assert _login(world.client, "resident_a").status_code == 200
    assert not needs_rehash(stored_hash())
    assert _login(TestClient(world.app), "resident_a").status_code == 200


def test_wrong_password_is_401_in_the_error_shape(world: World) -> None:
    r = _login(world.client, "operator_a", "not-the-password")
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == "not_authenticated" and err["message_zh"]
    assert set(err) == {"code", "message", "message_zh", "details"}
    unknown = _login(world.client, "nobody-here", "whatever-pw")
    assert unknown.status_code == 401 and unknown.json() == r.json()  # no user enumeration


def test_csrf_required_for_cookie_writes_not_for_bearer(world: World) -> None:
    csrf = _session(world, "admin_a")
    new_user = {"username": "op-new", "password": "long-enough-1", "role": "enterprise_operator"}
    refused = world.client.post("/api/v1/users", json=new_user)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = world.client.post("/api/v1/users", json=new_user, headers={"X-CSRF-Token": "x" + csrf})
    assert wrong.status_code == 403
    ok = world.client.post("/api/v1/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # The form field works too (logout is a form post in the dashboard).
    out = world.client.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert world.client.get("/api/v1/me").status_code == 401
    # Bearer requests need no CSRF token: a browser never attaches them by itself.
    bearer = TestClient(world.app)
    made = bearer.post(
        "/api/v1/users",
        json={**new_user, "username": "op-new-2"},
        headers=world.auth("admin_a"),
    )
    assert made.status_code == 201


def test_logout_without_csrf_is_refused_and_session_survives(world: World) -> None:
    _session(world, "regulator")
    assert world.client.post("/auth/logout").status_code == 403
    assert world.client.get("/api/v1/me").status_code == 200


def test_login_rate_limited_per_username_and_per_address(world: World) -> None:
    for _ in range(5):
        assert _login(world.client, "operator_b", "wrong-password").status_code == 401
    limited = _login(world.client, "operator_b")  # even the right password now waits
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 300
    assert limited.json()["error"]["code"] == "rate_limited"
    # Other users from another address are unaffected ...
    other = TestClient(world.app, client=("10.0.0.9", 5000))
    assert _login(other, "steward_a").status_code == 200
    # ... but one address guessing at many usernames is stopped too (after 20: an office
    # behind one NAT address must not lock itself out after five typos).
    guesser = TestClient(world.app, client=("10.0.0.66", 5000))
    names = ["regulator", "admin_a", "operator_a", "steward_a", "gateway_a"]
    for i in range(20):
        assert _login(guesser, names[i % 5], f"wrong-password-{i // 5}").status_code == 401
    blocked = _login(guesser, "resident_a")
    assert blocked.status_code == 429 and blocked.json()["error"]["details"]["by"] == "ip"


def test_token_login_and_expiry_and_revocation(world: World) -> None:
    r = world.client.post(
        "/api/v1/auth/token",
        json={"username": "resident_a", "password": PASSWORD, "name": "phone app"},
    )
    assert r.status_code == 201
    token = r.json()["access_token"]
    anon = TestClient(world.app)
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get("/api/v1/me", headers=headers).json()["role"] == "resident"
    assert anon.delete("/api/v1/auth/token", headers=headers).status_code == 200
    assert anon.get("/api/v1/me", headers=headers).status_code == 401

    expired = create_token(world.store, world.users["operator_a"], ttl=timedelta(seconds=-1))
    res = anon.get("/api/v1/me", headers={"Authorization": f"Bearer {expired.token}"})
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
    assert anon.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_deactivated_user_loses_sessions_and_tokens(world: World) -> None:
    victim = world.users["operator_a"]
    session = TestClient(world.app)
    _session(world, "operator_a", session)
    assert session.get("/api/v1/me").status_code == 200
    admin = TestClient(world.app)
    r = admin.patch(
        f"/api/v1/users/{victim.user_id}", json={"active": False}, headers=world.auth("admin_a")
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert session.get("/api/v1/me").status_code == 401
    assert admin.get("/api/v1/me", headers=world.auth("operator_a")).status_code == 401
    assert _login(TestClient(world.app), "operator_a").status_code == 401


def test_admin_cannot_touch_other_enterprises_users_or_make_regulators(world: World) -> None:
    c = TestClient(world.app)
    other = world.users["operator_b"]
    r = c.patch(
        f"/api/v1/users/{other.user_id}", json={"active": False}, headers=world.auth("admin_a")
    )
    assert r.status_code == 404
    listed = {u["username"] for u in c.get("/api/v1/users", headers=world.auth("admin_a")).json()}
    assert "operator_a" in listed and "operator_b" not in listed
    escalate = c.post(
        "/api/v1/users",
        json={"username": "boss", "password": "long-enough-1", "role": "regulator"},
        headers=world.auth("admin_a"),
    )
    assert escalate.status_code == 403


def test_audit_records_logins_logouts_and_writes(world: World) -> None:
    csrf = _login(world.client, "admin_a").json()["csrf_token"]
    _login(TestClient(world.app, client=("10.1.1.1", 1)), "admin_a", "bad-password-x")
    world.client.post(
        "/api/v1/users",
        json={"username": "audited", "password": "long-enough-1", "role": "enterprise_operator"},
        headers={"X-CSRF-Token": csrf},
    )
    world.client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    events = list_events(world.store, limit=50)
    seen = {(e["action"], e["outcome"], e["username"]) for e in events}
    assert ("login", "ok", "admin_a") in seen
    assert ("login", "failed", "admin_a") in seen
    assert ("logout", "ok", "admin_a") in seen
    created = next(e for e in events if e["action"] == "user_create")
    assert created["username"] == "admin_a" and '"audited"' in created["after_summary"]
    assert created["client_ip"] == "testclient"
    failed = next(e for e in events if e["outcome"] == "failed")
    assert failed["client_ip"] == "10.1.1.1"
    # The enterprise admin reads the audit log over the API; an operator may not.
    api_events = TestClient(world.app).get("/api/v1/audit", headers=world.auth("admin_a")).json()
    assert any(e["action"] == "user_create" for e in api_events)
    assert all("password" not in (e["after_summary"] or "") for e in api_events)
    denied = TestClient(world.app).get("/api/v1/audit", headers=world.auth("operator_a"))
    assert denied.status_code == 403


def test_password_reset_by_admin_logs_the_user_out(world: World) -> None:
    victim = world.users["operator_a"]
    c = TestClient(world.app)
    assert c.get("/api/v1/me", headers=world.auth("operator_a")).status_code == 200
    r = c.patch(
        f"/api/v1/users/{victim.user_id}",
        json={"password": "brand-new-pass-9"},
        headers=world.auth("admin_a"),
    )
    assert r.status_code == 200
    assert c.get("/api/v1/me", headers=world.auth("operator_a")).status_code == 401
    assert _login(TestClient(world.app), "operator_a", "brand-new-pass-9").status_code == 200
    assert _login(TestClient(world.app), "operator_a").status_code == 401  # old password
