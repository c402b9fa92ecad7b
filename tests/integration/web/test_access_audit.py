"""The access audit: claim pages (names and descriptions of people) and an operator's export
of an organisation are recorded, and operators list them with `bridges audit list` and the
API, filtered; nobody else may read it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask

from services.cli import main
from tests.support.clock import MovableClock
from tests.support.world import World

from .conftest import TODAY


def _audit_cli(sqlite_url: str, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(main, ["audit", "list", "--database-url", sqlite_url, *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_claim_pages_and_exports_are_listed_for_operators(
    app: Flask,
    world: World,
    browser_for: Any,
    clock: MovableClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    a, b = world.a, world.b
    claim = world.submit(a, TODAY - timedelta(days=3))
    approver = browser_for("approver")
    approver.text(f"/claims/{claim['id']}")
    assert world.api.get(f"/claims/{claim['id']}/history", a.tokens["finance"]).status_code == 200
    # A claim the person may not see answers 404 and is not an access.
    other = browser_for("approver", "b")
    assert other.client.get(f"/claims/{claim['id']}").status_code == 404

    clock.now += timedelta(hours=2)
    exported = CliRunner().invoke(
        main,
        [
            "organisations",
            "export",
            "--org",
            b.payee_id,
            "--out",
            str(tmp_path / "b.json"),
            "--database-url",
            sqlite_url,
        ],
        env={"BRIDGES_CLOCK_START": clock.now.isoformat()},
    )
    assert exported.exit_code == 0, exported.output

    rows = _audit_cli(sqlite_url)
    export_row = rows[0]  # newest first
    assert export_row["action"] == "export" and export_row["resource"] == "organisation"
    assert export_row["organisation_id"] == b.payee_id
    assert export_row["actor"].startswith("cli:")
    claim_rows = [r for r in rows if r["resource"] == "claim"]
    assert sorted(r["organisation_id"] for r in claim_rows) == sorted([a.payer_id, a.payee_id] * 2)
    assert {(r["actor"], r["action"], r["resource_id"]) for r in claim_rows} == {
        (a.person_ids["approver"], "view", claim["id"]),
        (a.person_ids["finance"], "view", claim["id"]),  # through the API
    }

    # Filters: whose data, who, what, when.
    assert [r["resource"] for r in _audit_cli(sqlite_url, "--org", a.payee_id)] == ["claim"] * 2
    assert _audit_cli(sqlite_url, "--person", "approver.a@example.org") == [
        r for r in rows if r["actor"] == a.person_ids["approver"]
    ]
    assert len(_audit_cli(sqlite_url, "--action", "export")) == 1
    later = (clock.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert [r["action"] for r in _audit_cli(sqlite_url, "--since", later)] == ["export"]
    assert len(_audit_cli(sqlite_url, "--until", later)) == 4

    # The operators' API says the same, and refuses anyone else.
    api = world.api
    listed = api.ok("GET", f"/audit/access?organisation_id={a.payer_id}", world.operator_token)
    assert [r["resource_id"] for r in listed["accesses"]] == [claim["id"]] * 2
    assert api.get("/audit/access", a.tokens["approver"]).status_code == 403
    assert api.get("/audit/access", None).status_code == 401
    bad = api.get("/audit/access?action=peek&since=yesterday", world.operator_token)
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert set(bad.get_json()["errors"]) == {"action", "since"}
