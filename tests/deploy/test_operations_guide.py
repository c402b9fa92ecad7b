"""docs/operations.md names every configuration variable the code reads and every metric it
serves, and the README links it: a variable or metric added without a line in the guide fails
here."""

from __future__ import annotations

import re

from tests.deploy._support import GUIDE, ROOT, variables_read_by_the_code

METRIC = re.compile(
    r"""(?:GaugeMetricFamily|Gauge|Counter|Histogram|Summary)\(\s*f?["'](bridges_[a-z{}_]+)["']"""
)
SERVICES_WITH_HTTP_METRICS = ("ledger", "notifier")


def metrics_served_by_the_code() -> set[str]:
    """Every metric's exposed name: counters gain `_total`; `bridges_{service}_…` is made
    for each service."""
    names: set[str] = set()
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]:
        text = path.read_text()
        for match in METRIC.finditer(text):
            name = match.group(1)
            kind = match.group(0).split("(", 1)[0]
            if kind == "Counter" and not name.endswith("_total"):
                name += "_total"
            if "{service}" in name:
                names.update(name.replace("{service}", s) for s in SERVICES_WITH_HTTP_METRICS)
            else:
                names.add(name)
    return names


def documented_names(text: str) -> set[str]:
    return set(re.findall(r"`([A-Za-z0-9_]+)`", text))


def test_the_code_reads_variables_and_serves_metrics_this_test_can_find() -> None:
    variables = variables_read_by_the_code()
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "BRIDGES_TOKEN_KEY"} <= variables
    assert len(variables) > 50
    metrics = metrics_served_by_the_code()
    assert {"bridges_relay_lag_events", "bridges_ledger_http_requests_total"} <= metrics
    assert "bridges_relay_published_events_total" in metrics


def test_every_variable_the_code_reads_is_in_the_guide() -> None:
    missing = variables_read_by_the_code() - documented_names(GUIDE.read_text())
    assert not missing, f"docs/operations.md does not describe {sorted(missing)}"


def test_every_metric_the_code_serves_is_in_the_guide() -> None:
    missing = metrics_served_by_the_code() - documented_names(GUIDE.read_text())
    assert not missing, f"docs/operations.md does not describe {sorted(missing)}"


def test_the_guide_describes_no_variable_or_metric_that_does_not_exist() -> None:
    named = documented_names(GUIDE.read_text())
    variables = {
        n for n in named if re.fullmatch(r"(BRIDGES|KAFKA|NOTIFIER|DATABASE)_[A-Z0-9_]+", n)
    }
    assert variables <= variables_read_by_the_code(), sorted(
        variables - variables_read_by_the_code()
    )
    metrics = {n for n in named if n.startswith("bridges_") and not n.endswith("_")}
    assert metrics <= metrics_served_by_the_code(), sorted(metrics - metrics_served_by_the_code())


def test_a_variable_missing_from_the_guide_is_noticed() -> None:
    text = GUIDE.read_text().replace("`BRIDGES_RELAY_NAME`", "the relay's name")
    assert "BRIDGES_RELAY_NAME" in variables_read_by_the_code() - documented_names(text)


def test_the_guide_covers_what_issue_11_asks_and_the_readme_links_it() -> None:
    headings = set(re.findall(r"^#+ (.+)$", GUIDE.read_text(), flags=re.MULTILINE))
    for heading in (
        "Configuration",
        "Sizing",
        "Backups and restore",
        "Upgrading",
        "Scaling out",
        "When things go wrong",
        "Metrics",
        "The reverse proxy",
    ):
        assert heading in headings, heading
    guide = GUIDE.read_text()
    for phrase in (
        "pg_dump",
        "pg_restore",
        ".backup",
        "bridges notifier rebuild",
        "bridges db check",
    ):
        assert phrase in guide, phrase
    assert "(docs/operations.md)" in (ROOT / "README.md").read_text()
