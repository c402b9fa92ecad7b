"""`make audit`: pip-audit over the pinned dependencies, never reporting an audit that did not
run as clean.

pip-audit prints "No known vulnerabilities found" and exits 0 even when it could not reach any
vulnerability source (every dependency is then "not found ... and could not be audited"). This
reads its JSON instead and says which of three things happened:

- exit 0: every pinned dependency was checked and none has a known vulnerability;
- exit 1: known vulnerabilities (listed);
- exit 2: "audit NOT run" (no vulnerability source answered, or pip-audit failed) or
  "audit INCOMPLETE" (some dependencies could not be checked; listed).
"""

from __future__ import annotations

import json
import subprocess  # nosec B404: runs pip-audit, a fixed command, without a shell
import sys
from collections.abc import Sequence
from pathlib import Path

NOT_RUN = "audit NOT run: no vulnerability source reachable"


def pip_audit_command(lock_file: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        lock_file,
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]


def judge(returncode: int, stdout: str, stderr: str) -> tuple[int, str]:
    """(exit status, what to say) from one pip-audit run's outcome."""
    try:
        report = json.loads(stdout)
        dependencies = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return 2, f"{NOT_RUN} (pip-audit exited {returncode}: {last})"
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if vulnerable:
        lines = [
            f"  {d['name']} {d.get('version', '')}: "
            + ", ".join(
                v.get("id", "?") + " (fix: " + ", ".join(v.get("fix_versions") or ["none"]) + ")"
                for v in d["vulns"]
            )
            for d in vulnerable
        ]
        return 1, "known vulnerabilities found:\n" + "\n".join(lines)
    if not dependencies or len(skipped) == len(dependencies):
        return 2, f"{NOT_RUN} ({len(skipped)} of {len(dependencies)} dependencies not checked)"
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        return 2, f"audit INCOMPLETE: {len(skipped)} dependencies could not be checked: {names}"
    return 0, f"audit ran: {len(dependencies)} dependencies checked, no known vulnerabilities"


def main(argv: Sequence[str], command: Sequence[str] | None = None) -> int:
    lock_file = argv[0] if argv else "requirements.lock"
    if not Path(lock_file).is_file():
        print(f"audit NOT run: {lock_file} does not exist (run `make lock`)")
        return 2
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603: a fixed argument list, no shell
            list(command or pip_audit_command(lock_file)),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"{NOT_RUN} ({type(error).__name__}: {error})")
        return 2
    status, message = judge(done.returncode, done.stdout, done.stderr)
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
