"""deploy/compose.yaml: valid against the compose specification's JSON schema (the copy that
the check-jsonschema package ships, offline), and the laptop stack it promises."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy._support import DEPLOY, command_problem, variables_read_by_the_code

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def schema_errors(document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def bridges_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("${BRIDGES_IMAGE")
    }


def test_the_schema_is_the_compose_specification() -> None:
    schema = compose_schema()
    assert schema["title"] == "Compose Specification"
    assert "services" in schema["properties"]


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["services"]["ledger"].update(ports="8000"),
        lambda d: d["services"]["relay"]["deploy"].update(replicas={"active": 1}),
        lambda d: d["services"]["ledger"].update(
            depends_on={"ledger-migrate": {"condition": "done"}}
        ),
        lambda d: d["services"]["proxy"].update(
            volumez=["./nginx/nginx.conf:/etc/nginx/nginx.conf"]
        ),
        lambda d: d.update(servces={}),
    ],
    ids=["ports-not-a-list", "replicas-not-a-number", "unknown-condition", "typo-key", "typo-top"],
)
def test_a_broken_copy_fails_the_schema(break_it) -> None:  # type: ignore[no-untyped-def]
    document = compose()
    break_it(document)
    assert schema_errors(document) != []


def test_three_kafka_nodes_in_kraft_mode_form_one_quorum() -> None:
    services = compose()["services"]
    nodes = {
        name: s for name, s in services.items() if name.startswith("kafka-") and name[-1].isdigit()
    }
    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    ids = set()
    for name, node in nodes.items():
        env = node["environment"]
        assert node["image"].startswith("apache/kafka:")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert (
            env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        )
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        ids.add(env["KAFKA_NODE_ID"])
    assert ids == {"1", "2", "3"}
    init = services["kafka-init"]
    assert init["command"][:2] == ["kafka", "init"]
    assert {"--replication-factor", "3"} <= set(init["command"])


def test_every_role_runs_with_migrations_first_and_two_relays() -> None:
    services = bridges_services()
    commands = {name: tuple(s["command"][:3]) for name, s in services.items()}
    assert commands["ledger-migrate"] == ("db", "upgrade")
    assert commands["notifier-migrate"] == ("notifier", "db", "upgrade")
    assert commands["ledger"][:2] == ("ledger", "serve")
    assert commands["relay"][:2] == ("ledger", "relay")
    assert commands["notifier"][:2] == ("notifier", "run")
    assert commands["notifier-api"][:2] == ("notifier", "serve")
    assert services["relay"]["deploy"]["replicas"] == 2
    done = {"condition": "service_completed_successfully"}
    assert services["ledger"]["depends_on"]["ledger-migrate"] == done
    assert services["relay"]["depends_on"]["ledger-migrate"] == done
    assert services["notifier"]["depends_on"]["notifier-migrate"] == done
    assert services["notifier-api"]["depends_on"]["notifier-migrate"] == done
    for name, service in services.items():
        assert command_problem(service["command"]) is None, name


def test_only_the_proxy_and_the_mail_page_are_published_and_only_on_loopback() -> None:
    services = compose()["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert set(published) == {"proxy", "mailpit"}
    for ports in published.values():
        assert all(str(p).startswith("127.0.0.1:") for p in ports)
    proxy = services["proxy"]
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["ledger"] == {"condition": "service_healthy"}
    upstreams = re.findall(
        r"server ([a-z-]+):(\d+);", (DEPLOY / "nginx" / "nginx.conf").read_text()
    )
    for host, port in upstreams:
        assert host in services, f"nginx points at {host}, which compose does not run"
        assert port in services[host]["expose"]


def test_every_variable_given_to_the_services_is_one_the_code_reads() -> None:
    known = variables_read_by_the_code()
    for name, service in bridges_services().items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing (a typo?)"
        health = service["environment"].get("BRIDGES_HEALTHCHECK_URL", "")
        if name.endswith("-migrate") or name == "kafka-init":
            continue
        port = re.search(r":(\d+)/healthz$", health)
        assert port and port.group(1) in service["expose"], name


def test_secrets_come_from_the_env_file_and_the_example_holds_placeholders_only() -> None:
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required == {"POSTGRES_PASSWORD", "BRIDGES_SECRET_KEY", "BRIDGES_TOKEN_KEY"}
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in required:
        assert example[name].startswith("CHANGE-ME"), f"{name} in .env.example is not a placeholder"
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert interpolated <= set(example), sorted(interpolated - set(example))
    gitignore = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "deploy/.env" in gitignore
