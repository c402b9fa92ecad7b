"""`bridges organisations idp set|show|remove`: an organisation's provider, its secret named by
reference only, its role map checked."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from services.cli import main
from tests.support.world import World


def _idp(sqlite_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["organisations", "idp", *args, "--database-url", sqlite_url])
    return result.exit_code, result.output


def test_set_show_and_remove_a_provider(world: World, sqlite_url: str) -> None:
    issuer = "https://login.microsoftonline.com/8f6c2a1e-0000-4000-8000-00000000abcd/v2.0"
    code, out = _idp(
        sqlite_url,
        "set",
        "--org",
        "ICB A",
        "--issuer",
        issuer,
        "--client-id",
        "3f1b9c2d-client",
        "--client-secret-env",
        "BRIDGES_IDP_SECRET_ICB_A",
        "--map",
        "a1b2-approvers=approver",
        "--map",
        "c3d4-finance=finance",
        "--map",
        "c3d4-finance=approver",
    )
    assert code == 0, out
    saved = json.loads(out)
    assert saved["role_map"] == {
        "a1b2-approvers": ["approver"],
        "c3d4-finance": ["approver", "finance"],
    }
    assert saved["client_secret_ref"] == "env:BRIDGES_IDP_SECRET_ICB_A"
    code, out = _idp(sqlite_url, "show", "--org", world.a.payer_id)
    assert code == 0 and json.loads(out)["issuer"] == issuer

    # Refused, writing nothing: no secret reference, a role the organisation cannot hold.
    code, out = _idp(
        sqlite_url,
        "set",
        "--org",
        "ICB A",
        "--issuer",
        issuer,
        "--client-id",
        "x",
        "--map",
        "g=approver",
    )
    assert code == 2 and "--client-secret-env" in out
    code, out = _idp(
        sqlite_url,
        "set",
        "--org",
        "ICB A",
        "--issuer",
        issuer,
        "--client-id",
        "changed",
        "--client-secret-env",
        "S",
        "--map",
        "g=vcse_member",
        "--map",
        "h=operator",
    )
    assert code == 1 and "role_map.g" in out and "role_map.h" in out
    code, out = _idp(sqlite_url, "show")
    assert [json.loads(line)["client_id"] for line in out.splitlines()] == ["3f1b9c2d-client"]

    code, out = _idp(sqlite_url, "remove", "--org", "ICB A")
    assert code == 0 and out.strip() == "removed"
    assert _idp(sqlite_url, "show")[1] == ""
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:  # and never in the event log
        assert (
            connection.execute(
                text("SELECT count(*) FROM events WHERE data LIKE '%microsoftonline%'")
            ).scalar()
            == 0
        )
    engine.dispose()
