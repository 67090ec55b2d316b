"""`cxlake users ...` against a real app-state store under $CXLAKE_HOME, and a tiny serving copy."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cxlake.access.accounts import Accounts, SignInError
from cxlake.access.roles import Principal
from cxlake.app_state import AppState
from cxlake.cli import app
from cxlake.cli.users import app as users_app

runner = CliRunner()
PASSWORD = "correct horse battery"
STORES = [  # out of id order on purpose: the demo picks the first region by id, then its first store
    ("S010", "北区一店", "R02", "华北"),
    ("S003", "东区三店", "R01", "华东"),
    ("S002", "东区二店", "R01", "华东"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    return tmp_path


def accounts(home: Path) -> Accounts:
    return Accounts(AppState(home / "app_state.sqlite"))


def users(*arguments: str, stdin: str | None = None):
    return runner.invoke(users_app, list(arguments), input=stdin)


def write_serving(path: Path, stores: list[tuple[str, str, str, str]]) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.dim_store (store_id varchar, store_name varchar, region_id varchar,"
            " region_name varchar)"
        )
        if stores:
            connection.executemany("insert into marts.dim_store values (?, ?, ?, ?)", stores)
    return path


def test_add_reads_the_password_from_stdin_and_the_account_can_sign_in(home):
    result = users(
        "add", "--name", "mgr", "--role", "store_manager", "--scope", "S001", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "added mgr (store_manager, S001)\n"
    session = accounts(home).sign_in("mgr", PASSWORD)  # the newline is not part of the password
    assert session.principal == Principal("mgr", "store_manager", "S001")
    assert accounts(home).audit.events(action="user_added")[0].actor.startswith("cli")


@pytest.mark.parametrize(
    ("arguments", "stdin", "message"),
    [
        (["--role", "analyst"], PASSWORD, "pass the password on stdin with --password-stdin"),
        (["--role", "analyst", "--password-stdin"], "\n", "empty password on stdin"),
        (["--role", "store_manager", "--password-stdin"], PASSWORD, "role store_manager needs a scope id"),
        (["--role", "admin", "--scope", "R01", "--password-stdin"], PASSWORD, "takes no scope id"),
        (["--role", "boss", "--password-stdin"], PASSWORD, "unknown role 'boss'"),
        (["--role", "analyst", "--password-stdin"], "short\n", "at least 12 characters"),
    ],
)
def test_add_refuses_bad_input_with_one_error_line(home, arguments, stdin, message):
    result = users("add", "--name", "x", *arguments, stdin=stdin)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert accounts(home).list() == []


def test_add_refuses_a_duplicate_name(home):
    accounts(home).add("ana", "analyst", PASSWORD)
    result = users("add", "--name", "ana", "--role", "steward", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 1
    assert result.stderr == "error: an account named 'ana' already exists\n"


def test_list_prints_accounts_as_csv_without_hashes(home):
    accounts(home).add("mgr", "regional_manager", PASSWORD, scope_id="R01")
    accounts(home).add("ana", "analyst", PASSWORD)
    accounts(home).disable("ana")
    result = users("list")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["name", "role", "scope_id", "disabled", "created_at"]
    assert [row[:4] for row in rows[1:]] == [
        ["ana", "analyst", "", "true"],
        ["mgr", "regional_manager", "R01", "false"],
    ]
    assert "argon2" not in result.stdout


def test_disable_refuses_sign_in_and_an_unknown_name_is_an_error(home):
    accounts(home).add("ana", "analyst", PASSWORD)
    result = users("disable", "--name", "ana")
    assert (result.exit_code, result.stdout) == (0, "disabled ana\n")
    with pytest.raises(SignInError, match="account disabled"):
        accounts(home).sign_in("ana", PASSWORD)
    result = users("disable", "--name", "ghost")
    assert (result.exit_code, result.stderr) == (1, "error: no account named 'ghost'\n")


def test_set_password_replaces_the_password(home):
    accounts(home).add("ana", "analyst", PASSWORD)
    result = users("set-password", "--name", "ana", "--password-stdin", stdin="a brand new password\n")
    assert (result.exit_code, result.stdout) == (0, "password set for ana\n")
    with pytest.raises(SignInError, match="wrong name or password"):
        accounts(home).sign_in("ana", PASSWORD)
    assert accounts(home).sign_in("ana", "a brand new password").principal.name == "ana"


def demo_table(output: str) -> dict[str, tuple[str, str, str]]:
    """name -> (role, scope, password) from the printed demo table."""
    header, *lines = output.splitlines()
    assert header.split() == ["name", "role", "scope", "password"]
    return {name: (key, scope, password) for name, key, scope, password in (line.split() for line in lines)}


def test_demo_creates_one_working_account_per_role_scoped_to_the_first_region_and_store(home):
    serving = write_serving(home / "tiny_serving.duckdb", STORES)
    result = users("demo", "--serving", str(serving))
    assert result.exit_code == 0, result.output
    table = demo_table(result.stdout)
    assert {name: row[:2] for name, row in table.items()} == {
        "admin": ("admin", "all"),
        "director": ("cx_director", "all"),
        "region_R01": ("regional_manager", "R01"),
        "store_S002": ("store_manager", "S002"),
        "analyst": ("analyst", "all"),
        "steward": ("steward", "all"),
    }
    for name, (key, scope, password) in table.items():
        principal = accounts(home).sign_in(name, password).principal
        assert principal == Principal(name, key, None if scope == "all" else scope)


def test_demo_run_again_resets_passwords_and_re_enables_accounts(home):
    serving = write_serving(home / "tiny_serving.duckdb", STORES)
    first = demo_table(users("demo", "--serving", str(serving)).stdout)
    accounts(home).disable("analyst")
    second = demo_table(users("demo", "--serving", str(serving)).stdout)
    assert len(accounts(home).list()) == 6
    assert first["analyst"][2] != second["analyst"][2]
    with pytest.raises(SignInError, match="wrong name or password"):
        accounts(home).sign_in("analyst", first["analyst"][2])
    assert accounts(home).sign_in("analyst", second["analyst"][2]).principal.role == "analyst"


def test_demo_reads_the_serving_copy_under_cxlake_home_by_default(home):
    write_serving(home / "serving.duckdb", STORES[:1])
    result = runner.invoke(app, ["users", "demo"])  # through `cxlake users`, as `make demo` runs it
    assert result.exit_code == 0, result.output
    assert {"region_R02", "store_S010"} <= set(demo_table(result.stdout))


@pytest.mark.parametrize(
    ("stores", "message"),
    [
        (None, "no serving copy at"),  # no file at all
        ([], "has no stores"),  # an empty dimension
        ("no table", "dim_store"),  # a DuckDB file that is not a serving copy
    ],
)
def test_demo_without_stores_is_an_error(home, stores, message):
    serving = home / "tiny_serving.duckdb"
    if stores == "no table":
        duckdb.connect(str(serving)).close()
    elif stores is not None:
        write_serving(serving, stores)
    result = users("demo", "--serving", str(serving))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert accounts(home).list() == []
