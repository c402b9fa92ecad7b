"""deploy/k8s/: every manifest valid against Kubernetes' own schemas (kubernetes-validate,
strict: unknown fields fail too, offline) for the version stated here, and the shape of the
installation: probes, resources, disruption budgets, one image's roles, secrets by reference."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy._support import (
    DEPLOY,
    K8S,
    command_problem,
    k8s_documents,
    load_yaml_documents,
    variables_read_by_the_code,
)

# The Kubernetes version the manifests are validated against (and written for).
KUBERNETES_VERSION = "1.31.0"
EVENTS_PARTITIONS = 6  # `bridges kafka init`'s default

DOCUMENTS = list(k8s_documents())
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == kind}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return result


@pytest.mark.parametrize(
    ("path", "doc"),
    DOCUMENTS,
    ids=[f"{p.relative_to(K8S)}:{d['kind']}/{d['metadata']['name']}" for p, d in DOCUMENTS],
)
def test_every_manifest_is_valid_for_the_stated_kubernetes_version(
    path: Path, doc: dict[str, Any]
) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["spec"].update(replicas="two"),
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(livenessprobe={}),
        lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"].update(
            limits={"cpu": {"cores": 2}}
        ),
        lambda d: d["spec"].pop("selector"),
    ],
    ids=["replicas-string", "misspelt-field", "bad-quantity", "no-selector"],
)
def test_a_broken_copy_fails_validation(break_it) -> None:  # type: ignore[no-untyped-def]
    broken = copy.deepcopy(by_kind("Deployment")["ledger"])
    break_it(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_installation_has_every_part() -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in DOCUMENTS}
    expected = {
        ("Namespace", "bridges"),
        ("ConfigMap", "bridges-config"),
        ("Secret", "bridges-secrets"),
        ("Deployment", "ledger"),
        ("Deployment", "relay"),
        ("StatefulSet", "notifier"),
        ("Deployment", "notifier-api"),
        ("Deployment", "proxy"),
        ("ConfigMap", "proxy-nginx"),
        ("Job", "ledger-migrate"),
        ("Job", "notifier-migrate"),
        ("Job", "kafka-topics"),
    }
    assert expected <= kinds, sorted(expected - kinds)
    for kind in ("Deployment", "StatefulSet"):
        for name in by_kind(kind):
            assert ("PodDisruptionBudget", name) in kinds, f"{kind} {name} has no PDB"
            assert ("Service", name) in kinds, f"{kind} {name} has no Service"
    for _, doc in DOCUMENTS:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "bridges", doc["metadata"]["name"]


def test_replicas_roles_and_commands() -> None:
    deployments = by_kind("Deployment")
    assert deployments["ledger"]["spec"]["replicas"] == 2
    assert deployments["relay"]["spec"]["replicas"] == 2
    consumer = by_kind("StatefulSet")["notifier"]
    assert 1 <= consumer["spec"]["replicas"] <= EVENTS_PARTITIONS
    env = {e["name"]: e for e in containers(consumer)[0]["env"]}
    assert env["BRIDGES_NOTIFIER_INSTANCE_ID"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.name"}
    }
    roles = {
        name: containers(doc)[0]["args"]
        for kind in WORKLOAD_KINDS
        for name, doc in by_kind(kind).items()
        if name != "proxy"
    }
    assert roles["ledger"][:2] == ["ledger", "serve"]
    assert roles["relay"] == ["ledger", "relay"]
    assert roles["notifier"] == ["notifier", "run"]
    assert roles["notifier-api"][:2] == ["notifier", "serve"]
    assert roles["ledger-migrate"] == ["db", "upgrade"]
    assert roles["notifier-migrate"] == ["notifier", "db", "upgrade"]
    for name, args in roles.items():
        assert command_problem(args) is None, name


def test_long_running_pods_have_probes_resources_and_no_root() -> None:
    for kind in ("Deployment", "StatefulSet"):
        for name, doc in by_kind(kind).items():
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            for container in pod["containers"]:
                assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
                expected = "/healthz" if name == "proxy" else "/readyz"
                assert container["readinessProbe"]["httpGet"]["path"] == expected, name
                assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
                assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
                assert container["securityContext"]["allowPrivilegeEscalation"] is False
                assert container["securityContext"]["readOnlyRootFilesystem"] is True
                ports = {p["name"] for p in container["ports"]}
                probe_port = container["livenessProbe"]["httpGet"]["port"]
                assert probe_port in ports, f"{name} probes a port it does not declare"
    for name, doc in by_kind("Job").items():
        for container in containers(doc):
            assert "limits" in container["resources"], name


def test_disruption_budgets_select_their_workloads() -> None:
    workloads = {**by_kind("Deployment"), **by_kind("StatefulSet")}
    for name, pdb in by_kind("PodDisruptionBudget").items():
        labels = workloads[name]["spec"]["template"]["metadata"]["labels"]
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), name
        replicas = workloads[name]["spec"]["replicas"]
        assert pdb["spec"].get("minAvailable", 0) < replicas, f"{name}: a drain could never proceed"


def test_settings_are_variables_the_code_reads_and_secrets_are_only_referenced() -> None:
    known = variables_read_by_the_code()
    config = by_kind("ConfigMap")["bridges-config"]["data"]
    assert not set(config) - known, sorted(set(config) - known)
    secret_words = re.compile("PASSWORD|SECRET|TOKEN_KEY|DATABASE_URL")
    assert not [k for k in config if secret_words.search(k)], "a secret in the ConfigMap"
    secrets = [(p, d) for p, d in DOCUMENTS if d["kind"] == "Secret"]
    for path, secret in secrets:
        assert path.parent.name == "examples", f"{path}: a Secret outside examples/"
        for key, value in secret["stringData"].items():
            assert key in known
            assert "CHANGE-ME" in value, f"{key} holds something other than a placeholder"
    for kind in WORKLOAD_KINDS:
        for name, doc in by_kind(kind).items():
            for container in containers(doc):
                for source in container.get("envFrom", []):
                    if "secretRef" in source:
                        assert source["secretRef"]["name"] == "bridges-secrets"
                for env in container.get("env", []):
                    assert "value" not in env or not secret_words.search(env["name"]), name


def test_the_proxy_config_map_is_the_committed_nginx_config() -> None:
    config_map = by_kind("ConfigMap")["proxy-nginx"]
    committed = (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert config_map["data"]["nginx.conf"] == committed, (
        "deploy/k8s/proxy.yaml's ConfigMap differs from deploy/nginx/nginx.conf: copy it over"
    )
    services = by_kind("Service")
    for host, port in re.findall(r"server ([a-z-]+):(\d+);", committed):
        ports = [p["port"] for p in services[host]["spec"]["ports"]]
        assert int(port) in ports, f"nginx points at {host}:{port}, no such Service port"


def test_the_example_secret_is_not_applied_with_the_directory() -> None:
    top_level = [doc for path in K8S.glob("*.yaml") for doc in load_yaml_documents(path)]
    assert all(doc["kind"] != "Secret" for doc in top_level)
