"""``nuanliu serve`` and ``nuanliu users …``: run the API and manage logins."""

from __future__ import annotations

from typing import Any

import typer

from nuanliu.config import load_settings

app = typer.Typer(no_args_is_help=True)
users_app = typer.Typer(no_args_is_help=True, help="Accounts and roles (用户与角色).")
app.add_typer(users_app, name="users")


@app.command("serve")
def serve(
    db: str = typer.Option("", "--db", help="Store URL (default: DuckDB under the data dir)."),
    host: str = typer.Option("", "--host", help="Bind address (default NUANLIU_HOST)."),
    port: int = typer.Option(0, "--port", help="Port (default NUANLIU_PORT)."),
) -> None:
    """Serve the API and the dashboard (运行服务)."""
    import uvicorn

    from nuanliu.api.app import create_app

    overrides: dict[str, Any] = {}
    if db:
        overrides["db_url"] = db
    settings = load_settings(**overrides)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        log_level="info",
    )


def _open(db: str) -> Any:
    from nuanliu.store import open_store

    overrides: dict[str, Any] = {"db_url": db} if db else {}
    return open_store(load_settings(**overrides).database_url)


@users_app.command("create")
def users_create(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(
        ...,
        "--role",
        help="regulator, enterprise_admin, enterprise_operator, steward, resident or gateway.",
    ),
    scope: list[str] = typer.Option(
        ..., "--scope", help="Region, enterprise, community or household id (repeatable)."
    ),
    display_name: str = typer.Option("", "--name", help="Display name."),
    db: str = typer.Option("", "--db", help="Store URL."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Password (≥ 8 chars)."
    ),
) -> None:
    """Create a user bound to a role and scope (创建用户)."""
    from nuanliu.api.accounts import create_user
    from nuanliu.api.audit import record_event
    from nuanliu.errors import NuanliuError

    store = _open(db)
    try:
        try:
            user = create_user(
                store,
                username=username,
                password=password,
                role=role,
                scope_ids=scope,
                display_name=display_name,
            )
        except NuanliuError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        record_event(
            store,
            action="user_create",
            username="cli",
            object_type="user",
            object_id=user.user_id,
            after={"username": user.username, "role": str(user.role), "scope": scope},
        )
    finally:
        store.close()
    typer.echo(
        f"created {user.username} ({user.role}, {user.scope_kind}: {', '.join(user.scope_ids)})"
    )


@users_app.command("list")
def users_list(db: str = typer.Option("", "--db", help="Store URL.")) -> None:
    """List users with role and scope (用户列表)."""
    from nuanliu.api.accounts import list_users

    store = _open(db)
    try:
        for user in list_users(store):
            state = "" if user.active else "  (inactive)"
            ids = ", ".join(user.scope_ids)
            typer.echo(f"{user.username}\t{user.role}\t{user.scope_kind}: {ids}{state}")
    finally:
        store.close()


@users_app.command("demo")
def users_demo(
    db: str = typer.Option("", "--db", help="Store URL."),
    password: str = typer.Option(
        "nuanliu-demo", "--password", help="Password for every demo login."
    ),
) -> None:
    """Create one demo login per role over the registry (演示账号)."""
    from nuanliu.api.demo import create_demo_users

    store = _open(db)
    try:
        for login in create_demo_users(store, password=password):
            typer.echo(
                f"{login.username}\t{login.password}\t{login.role}\t{', '.join(login.scope)}"
            )
    finally:
        store.close()


@users_app.command("token")
def users_token(
    username: str = typer.Argument(..., help="Login name (e.g. a gateway user)."),
    name: str = typer.Option("cli", "--name", help="What the token is for."),
    days: float = typer.Option(365.0, "--days", min=0.01, max=3650, help="Lifetime in days."),
    db: str = typer.Option("", "--db", help="Store URL."),
) -> None:
    """Mint a bearer token for a user, e.g. a data gateway (签发令牌). Shown once."""
    from datetime import timedelta

    from nuanliu.api.accounts import find_user
    from nuanliu.api.audit import record_event
    from nuanliu.api.sessions import create_token

    store = _open(db)
    try:
        user = find_user(store, username)
        if user is None or not user.active:
            typer.echo(f"no active user {username!r}", err=True)
            raise typer.Exit(1)
        new = create_token(store, user, name=name, ttl=timedelta(days=days))
        record_event(
            store,
            action="token_create",
            username="cli",
            object_type="api_token",
            object_id=new.token_id,
            after={"for": username, "name": name, "expires_at": new.expires_at.isoformat()},
        )
    finally:
        store.close()
    typer.echo(new.token)


@users_app.command("deactivate")
def users_deactivate(
    username: str = typer.Argument(..., help="Login name."),
    db: str = typer.Option("", "--db", help="Store URL."),
) -> None:
    """Deactivate a user: ends their sessions and revokes their tokens (停用用户)."""
    from nuanliu.api.accounts import find_user, set_active
    from nuanliu.api.audit import record_event

    store = _open(db)
    try:
        user = find_user(store, username)
        if user is None:
            typer.echo(f"no user {username!r}", err=True)
            raise typer.Exit(1)
        set_active(store, user.user_id, False)
        record_event(
            store,
            action="user_update",
            username="cli",
            object_type="user",
            object_id=user.user_id,
            before={"active": user.active},
            after={"active": False},
        )
    finally:
        store.close()
    typer.echo(f"deactivated {username}")
