"""`bridges organisations export`: one organisation's data as JSON, no secrets, nobody else's."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from services.cli import main
from tests.support.clock import TEST_TODAY
from tests.support.ledger_events import ledger_history


def test_export_one_organisation(sqlite_url: str, tmp_path: Path) -> None:
    history = ledger_history(sqlite_url, TEST_TODAY - timedelta(days=75))
    world = history.world
    a, b = world.a, world.b
    for organisation_id, gln in ((a.payee_id, "0088:5012345000008"), (a.payer_id, None)):
        body = {"peppol_id": gln} if gln else {"vat_number": "GB123456789"}
        world.api.ok("PATCH", f"/organisations/{organisation_id}", world.operator_token, body)
    paid = world.api.ok("GET", "/claims?status=paid", a.tokens["vcse_member"])["items"][0]
    invoice = world.api.ok("POST", f"/claims/{paid['id']}/invoice", a.tokens["vcse_member"], {})
    out = tmp_path / "export.json"
    result = CliRunner().invoke(
        main,
        [
            "organisations",
            "export",
            "--org",
            a.payee_id,
            "--out",
            str(out),
            "--database-url",
            sqlite_url,
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    document = json.loads(text)
    assert document["organisation"]["id"] == a.payee_id
    assert document["people"], "its people"
    assert all(p["organisation_id"] == a.payee_id for p in document["people"])
    assert "password_hash" not in text and "token_hash" not in text
    assert [p["id"] for p in document["partnerships"]] == [a.partnership_id]
    assert document["agreements"]
    claims = document["claims"]
    assert len(claims) == 4
    assert all(a.payee_id in (c["payee_id"], c["payer_id"]) for c in claims)
    assert all(c["history"] and c["history"][0]["type"] == "ClaimSubmitted" for c in claims)
    statuses = {c["status"] for c in claims}
    assert "paid" in statuses
    assert document["payments"] and document["payments"][0]["allocations"]
    assert [i["number"] for i in document["invoices"]] == [invoice["number"]]
    assert document["organisation"]["peppol_id"] == "0088:5012345000008"
    assert b.payee_id not in text and b.partnership_id not in text

    printed = CliRunner().invoke(
        main, ["organisations", "export", "--org", a.payee_id, "--database-url", sqlite_url]
    )
    assert json.loads(printed.output) == document
    missing = CliRunner().invoke(
        main, ["organisations", "export", "--org", "nobody", "--database-url", sqlite_url]
    )
    assert missing.exit_code != 0
