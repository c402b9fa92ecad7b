"""S7: bandit (medium severity and up) finds nothing unjustified in services/ and shared/, and
`make audit` never reports an audit that did not run as clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.audit import NOT_RUN, judge, main

ROOT = Path(__file__).resolve().parents[2]


def test_bandit_finds_nothing_at_medium_severity_and_up() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "services", "shared", "-ll", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
    ]
    assert not findings, (
        "bandit findings (fix, or justify with '# nosec BXXX: why'):\n" + "\n".join(findings)
    )
    assert done.returncode == 0, done.stderr


def test_every_accepted_bandit_finding_says_why() -> None:
    bare = []
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "nosec" in line and not re.search(r"# nosec B\d{3}: \S", line):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "a '# nosec' needs its test id and a reason:\n" + "\n".join(bare)


_SKIPPED = json.dumps(
    {
        "dependencies": [
            {"name": "flask", "version": "3.1.0", "skip_reason": "Dependency not found on PyPI"},
            {"name": "werkzeug", "version": "3.1.3", "skip_reason": "Dependency not found"},
        ],
        "fixes": [],
    }
)


def test_an_audit_that_reached_no_vulnerability_source_is_not_reported_clean() -> None:
    # What pip-audit prints here: exit 0, "No known vulnerabilities found", every dependency
    # skipped because no vulnerability source answered.
    status, message = judge(0, _SKIPPED, "No known vulnerabilities found\n")
    assert status == 2
    assert message.startswith(NOT_RUN)
    assert "No known vulnerabilities" not in message


def test_an_audit_that_failed_is_not_run() -> None:
    status, message = judge(1, "", "requests.exceptions.ConnectionError: no route to host\n")
    assert status == 2 and message.startswith(NOT_RUN) and "ConnectionError" in message


def test_a_partial_audit_is_flagged_and_a_full_one_is_clean() -> None:
    partial = json.dumps(
        {
            "dependencies": [
                {"name": "flask", "version": "3.1.0", "vulns": []},
                {"name": "private", "version": "1.0", "skip_reason": "not on PyPI"},
            ]
        }
    )
    assert judge(0, partial, "") == (
        2,
        "audit INCOMPLETE: 1 dependencies could not be checked: private",
    )
    clean = json.dumps({"dependencies": [{"name": "flask", "version": "3.1.0", "vulns": []}]})
    assert judge(0, clean, "")[0] == 0
    found = json.dumps(
        {
            "dependencies": [
                {
                    "name": "flask",
                    "version": "2.0",
                    "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.3.2"]}],
                }
            ]
        }
    )
    status, message = judge(1, found, "")
    assert status == 1 and "PYSEC-1" in message and "2.3.2" in message


def test_make_audit_says_not_run_when_pip_audit_cannot_reach_a_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("flask==3.1.0\n")
    fake = [sys.executable, "-c", f"print({_SKIPPED!r})"]
    assert main([str(lock)], command=fake) == 2
    assert capsys.readouterr().out.startswith(NOT_RUN)
    assert main([str(lock)], command=[str(tmp_path / "no-such-pip-audit")]) == 2
    assert capsys.readouterr().out.startswith(NOT_RUN)
    assert main([str(tmp_path / "missing.lock")]) == 2
    assert "audit NOT run" in capsys.readouterr().out


def test_the_lock_file_pins_every_dependency() -> None:
    pins = {
        re.split(r"[=\[]", line)[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert all(
        "==" in line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert {"flask", "flask-smorest", "sqlalchemy", "psycopg", "bandit", "pip-audit"} <= pins
