"""`bridges users create --password-stdin` and `bridges users set-password`: the password
is stored as an argon2 hash (not an event) and works on the sign-in form."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.ledger.api.app import create_app
from services.ledger.store import make_engine
from services.ledger.store.views import people
from shared.settings import LedgerSettings

from .conftest import Browser


def test_users_create_with_a_password_then_sign_in(sqlite_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        main,
        [
            "users",
            "create",
            "--org",
            "Hope Street",
            "--org-kind",
            "vcse",
            "--role",
            "vcse_member",
            "--email",
            "Amina@Hope.example",
            "--password-stdin",
            "--database-url",
            sqlite_url,
        ],
        input="a-long-password\n",
    )
    assert created.exit_code == 0, created.output
    person_id = json.loads(created.output)["person_id"]
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        stored = connection.execute(
            select(people.c.password_hash).where(people.c.id == person_id)
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$")
    assert "a-long-password" not in stored

    app = create_app(LedgerSettings(database_url=sqlite_url), testing=True)
    browser = Browser(app.test_client())
    assert browser.sign_in("amina@hope.example", "a-long-password").status_code == 302

    too_short = runner.invoke(
        main,
        [
            "users",
            "set-password",
            "--email",
            "amina@hope.example",
            "--password",
            "short",
            "--database-url",
            sqlite_url,
        ],
    )
    assert too_short.exit_code != 0 and "at least 8 characters" in too_short.output
    reset = runner.invoke(
        main,
        [
            "users",
            "set-password",
            "--email",
            "amina@hope.example",
            "--password-stdin",
            "--database-url",
            sqlite_url,
        ],
        input="another-long-one\n",
    )
    assert reset.exit_code == 0, reset.output
    browser = Browser(app.test_client())
    assert browser.sign_in("amina@hope.example", "a-long-password").status_code == 400
    assert browser.sign_in("amina@hope.example", "another-long-one").status_code == 302
