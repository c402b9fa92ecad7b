"""Which Bridges roles an identity provider's groups give, and what a role map may say."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ledger.domain.errors import ValidationFailed
from services.ledger.domain.identity import check_role_map, roles_from_groups
from services.ledger.identity import check_secret_ref, resolve_secret

ROLE_MAP = {"g-approvers": ["approver"], "g-finance": ["finance", "approver"]}


def test_groups_give_the_union_of_their_roles_in_a_stable_order() -> None:
    assert roles_from_groups(["g-finance", "g-approvers", "other"], ROLE_MAP) == (
        "approver",
        "finance",
    )
    assert roles_from_groups("g-approvers", ROLE_MAP) == ("approver",)  # one group, as a string


@pytest.mark.parametrize("groups", [[], ["other"], None, 42, [{"id": "g-finance"}]])
def test_no_mapped_group_gives_no_role(groups: object) -> None:
    assert roles_from_groups(groups, ROLE_MAP) == ()


def test_the_operator_role_is_never_given_even_by_a_stored_map() -> None:
    assert roles_from_groups(["admins"], {"admins": ["operator", "approver"]}) == ("approver",)


def test_a_role_map_must_fit_the_organisations_kind() -> None:
    assert check_role_map({" g1 ": ["finance", "approver"]}, "statutory") == {
        "g1": ["approver", "finance"]
    }
    with pytest.raises(ValidationFailed) as refused:
        check_role_map(
            {"g1": ["vcse_member"], "g2": ["operator"], "g3": [], "g4": ["wizard"]}, "statutory"
        )
    assert set(refused.value.errors) == {"role_map.g1", "role_map.g2", "role_map.g3", "role_map.g4"}
    with pytest.raises(ValidationFailed):
        check_role_map({}, "vcse")
    assert check_role_map({"staff": ["vcse_member"]}, "vcse") == {"staff": ["vcse_member"]}


def test_a_client_secret_is_named_never_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pasted in ("s3cr3t-value", "env:", "env:1BAD", "file:relative/path", "vault:x"):
        with pytest.raises(ValidationFailed):
            check_secret_ref(pasted)
    monkeypatch.setenv("ICB_IDP_SECRET", "from-the-environment")
    assert resolve_secret(check_secret_ref("env:ICB_IDP_SECRET")) == "from-the-environment"
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    assert resolve_secret(check_secret_ref(f"file:{secret_file}")) == "from-a-file"
    monkeypatch.delenv("ICB_IDP_SECRET")
    with pytest.raises(LookupError):
        resolve_secret("env:ICB_IDP_SECRET")
