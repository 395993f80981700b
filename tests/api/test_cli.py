"""``nuanliu users …``: create, list, mint a token, deactivate — against a DuckDB file."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from nuanliu.api.app import create_app
from nuanliu.cli import app as cli
from nuanliu.config import load_settings
from nuanliu.registry import build_demo_registry
from nuanliu.store import open_store


def test_users_cli_round_trip(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    with open_store(url) as store:
        build_demo_registry(store, households=30, seed=3)
        with store.read() as q:
            enterprise = q.all("SELECT MIN(enterprise_id) FROM household_context")[0][0]
    run = CliRunner()
    made = run.invoke(
        cli,
        ["users", "create", "gw1", "--role", "gateway", "--scope", enterprise, "--db", url],
        input="gateway-secret-1\ngateway-secret-1\n",
    )
    assert made.exit_code == 0, made.output
    assert f"gateway, enterprise: {enterprise}" in made.output
    bad = run.invoke(
        cli,
        ["users", "create", "x", "--role", "resident", "--scope", "NO-SUCH-HH", "--db", url],
        input="long-enough-1\nlong-enough-1\n",
    )
    assert bad.exit_code == 1 and "unknown household id(s) for role resident: NO-SUCH-HH" in (
        bad.output + (bad.stderr if bad.stderr_bytes is not None else "")
    )
    listed = run.invoke(cli, ["users", "list", "--db", url])
    assert "gw1\tgateway" in listed.output
    minted = run.invoke(cli, ["users", "token", "gw1", "--days", "1", "--db", url])
    token = minted.output.strip()
    assert minted.exit_code == 0 and token.startswith("nl_")
    with open_store(url) as store:
        app = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
        client = TestClient(app)
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me", headers=headers).json()["role"] == "gateway"
        assert run.invoke(cli, ["users", "deactivate", "gw1", "--db", url]).exit_code == 0
        assert client.get("/api/v1/me", headers=headers).status_code == 401
