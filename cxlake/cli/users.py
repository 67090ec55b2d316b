"""`cxlake users ...`: add, list, disable and re-password explorer accounts, and seed the demo ones.

Passwords come on stdin, never as options, so they stay out of shell history and process lists.
"""

from __future__ import annotations

import csv
import getpass
import secrets
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cxlake.access.accounts import AccountError, Accounts
from cxlake.app_state import AppState
from cxlake.paths import cxlake_paths

app = typer.Typer(
    name="users", no_args_is_help=True, help="Explorer accounts: add, list, disable, set-password, demo."
)

NameOption = Annotated[str, typer.Option("--name", help="The account's sign-in name.")]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (required).")
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _accounts() -> Accounts:
    return Accounts(AppState(cxlake_paths().app_state))


def _actor() -> str:
    """Who ran the command, for the audit log (the OS user; the CLI has no sign-in)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "cli"


def _password_from_stdin(password_stdin: bool) -> str:
    if not password_stdin:
        _fail("pass the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail("empty password on stdin")
    return password


@app.command("add")
def users_add(
    name: NameOption,
    role: Annotated[str, typer.Option("--role", help="admin, cx_director, regional_manager, ...")],
    scope: Annotated[
        str | None, typer.Option("--scope", help="Region id (regional_manager) or store id (store_manager).")
    ] = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Add an account with the password read from stdin."""
    password = _password_from_stdin(password_stdin)
    try:
        account = _accounts().add(name, role, password, scope, by=_actor())
    except AccountError as error:
        _fail(str(error))
    typer.echo(f"added {account.name} ({account.role}, {account.scope_id or 'all'})")


@app.command("list")
def users_list() -> None:
    """Every account as CSV on stdout (never a password hash)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["name", "role", "scope_id", "disabled", "created_at"])
    for account in _accounts().list():
        writer.writerow(
            [
                account.name,
                account.role,
                account.scope_id or "",
                str(account.disabled).lower(),
                account.created_at,
            ]
        )


@app.command("disable")
def users_disable(name: NameOption) -> None:
    """Disable an account and end its sessions."""
    try:
        account = _accounts().disable(name, by=_actor())
    except AccountError as error:
        _fail(str(error))
    typer.echo(f"disabled {account.name}")


@app.command("set-password")
def users_set_password(name: NameOption, password_stdin: PasswordStdinOption = False) -> None:
    """Replace an account's password (read from stdin); ends its sessions and lifts a lockout."""
    password = _password_from_stdin(password_stdin)
    try:
        account = _accounts().set_password(name, password, by=_actor())
    except AccountError as error:
        _fail(str(error))
    typer.echo(f"password set for {account.name}")


def demo_scope(serving: Path) -> tuple[str, str]:
    """(region id, store id) for the demo's managers: the first region by id and its first store."""
    import duckdb

    from cxlake.access.roles import Scope
    from cxlake.access.serving_door import Reader, open_door

    if not serving.is_file():
        raise FileNotFoundError(f"no serving copy at {serving}; run `cxlake run` (or `make demo`) first")
    try:
        with open_door(serving, Reader(Scope.everything()), schemas=("marts",)) as door:
            row = door.connection.execute(
                "select region_id, min(store_id) from marts.dim_store"
                " where region_id = (select min(region_id) from marts.dim_store) group by region_id"
            ).fetchone()
    except duckdb.Error as error:  # not a serving copy, or one without the marts
        first_line = str(error).splitlines()[0]
        raise LookupError(f"cannot read marts.dim_store of {serving}: {first_line}") from error
    if row is None:
        raise LookupError(f"marts.dim_store of {serving} has no stores")
    return str(row[0]), str(row[1])


@app.command("demo")
def users_demo(
    serving: Annotated[
        Path | None, typer.Option("--serving", help="Serving copy to take the demo region and store from.")
    ] = None,
) -> None:
    """Create or reset one account per role with fresh random passwords, and print them once."""
    try:
        region_id, store_id = demo_scope(serving or cxlake_paths().serving)
    except (FileNotFoundError, LookupError) as error:
        _fail(str(error))
    wanted = [
        ("admin", "admin", None),
        ("director", "cx_director", None),
        (f"region_{region_id}", "regional_manager", region_id),
        (f"store_{store_id}", "store_manager", store_id),
        ("analyst", "analyst", None),
        ("steward", "steward", None),
    ]
    accounts, actor = _accounts(), _actor()
    rows = [("name", "role", "scope", "password")]
    for name, key, scope_id in wanted:
        password = secrets.token_urlsafe(12)
        try:
            accounts.reset(name, key, password, scope_id, by=actor)
        except AccountError as error:
            _fail(f"{name}: {error}")
        rows.append((name, key, scope_id or "all", password))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        padded = [value.ljust(width) for value, width in zip(row[:3], widths, strict=True)]
        typer.echo("  ".join([*padded, row[3]]))
