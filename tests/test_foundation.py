"""The package, settings and command line hold together."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.config import load_settings
from nuanliu.errors import ConfigError, NetworkInvalid


def test_cli_lists_capabilities() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("network", "db", "registry", "ingest", "sensors", "monitor"):
        assert group in result.output


def test_default_store_is_embedded_duckdb_under_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"NUANLIU_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"duckdb:///{tmp_path.resolve() / 'nuanliu.duckdb'}"


def test_placeholder_secret_refused_outside_development() -> None:
    with pytest.raises(ConfigError, match="NUANLIU_SECRET_KEY"):
        load_settings({"NUANLIU_ENV": "production"})
    assert load_settings({"NUANLIU_ENV": "production", "NUANLIU_SECRET_KEY": "s3cret-" + "k" * 32})


def test_bad_setting_says_which_variable() -> None:
    with pytest.raises(ConfigError, match="NUANLIU_PORT"):
        load_settings({"NUANLIU_PORT": "eighty"})


def test_domain_errors_carry_code_and_details() -> None:
    err = NetworkInvalid("2 problems", details=[{"kind": "pipes", "id": "P1"}])
    assert isinstance(err, ValueError)
    assert err.to_dict() == {
        "code": "network_invalid",
        "message": "2 problems",
        "details": [{"kind": "pipes", "id": "P1"}],
    }
