"""Scopes to privilege and reach, per provider (DESIGN section 8's privilege and reach factors)."""

from __future__ import annotations

import pytest

from scanner.validate.permissions import analyze
from scanner.validate.result import (
    Identity,
    Privilege,
    ValidationResult,
    active,
    revoked,
)


def with_scopes(provider: str, *scopes: str, rule_id: str = "", **fields: object) -> ValidationResult:
    from dataclasses import replace

    return replace(active(provider, scopes=scopes, **fields), rule_id=rule_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "scopes, privilege",
    [
        (("repo", "admin:org"), Privilege.ADMIN),
        (("delete_repo",), Privilege.ADMIN),
        (("repo",), Privilege.WRITE),
        (("workflow", "read:org"), Privilege.WRITE),
        (("read:org", "read:user"), Privilege.READ),
        ((), Privilege.READ),
    ],
)
def test_github_scopes(scopes: tuple[str, ...], privilege: Privilege) -> None:
    assert analyze(with_scopes("github", *scopes, rule_id="github-pat-classic")).privilege is privilege


def test_github_reach_names_systems() -> None:
    result = analyze(with_scopes("github", "repo", "admin:org", "workflow", rule_id="github-pat-classic"))
    assert result.reach == ("github:actions", "github:org", "github:repos")


def test_github_fine_grained_without_scopes_is_unknown_and_installation_reaches_its_repos() -> None:
    assert analyze(with_scopes("github", rule_id="github-fine-grained-pat")).privilege is None
    app = analyze(with_scopes("github", "installation", rule_id="github-app-token", resources=("acme/api",)))
    assert app.privilege is Privilege.WRITE and app.reach == ("github:repo:acme/api",)


@pytest.mark.parametrize(
    "scopes, privilege, reach",
    [
        (("sudo", "api"), Privilege.ADMIN, ("*",)),
        (("api", "read_user"), Privilege.WRITE, ("*",)),
        (("write_repository",), Privilege.WRITE, ("gitlab:repository",)),
        (("read_registry", "read_repository"), Privilege.READ, ("gitlab:registry", "gitlab:repository")),
    ],
)
def test_gitlab_scopes(scopes: tuple[str, ...], privilege: Privilege, reach: tuple[str, ...]) -> None:
    result = analyze(with_scopes("gitlab", *scopes))
    assert (result.privilege, result.reach) == (privilege, reach)


@pytest.mark.parametrize(
    "scopes, privilege",
    [
        (("admin.users:write", "chat:write"), Privilege.ADMIN),
        (("chat:write", "channels:read"), Privilege.WRITE),
        (("channels:read", "users:read"), Privilege.READ),
    ],
)
def test_slack_scopes(scopes: tuple[str, ...], privilege: Privilege) -> None:
    assert analyze(with_scopes("slack", *scopes)).privilege is privilege


def test_slack_reach() -> None:
    assert analyze(with_scopes("slack", "chat:write", "channels:read", "channels:history")).reach == (
        "slack:channels", "slack:chat")


def test_stripe_key_types() -> None:
    live = analyze(with_scopes("stripe", "*", identity=Identity(account="secret-live")))
    assert (live.privilege, live.reach) == (Privilege.ADMIN, ("*",))
    test = analyze(with_scopes("stripe", "*", identity=Identity(account="secret-test")))
    assert test.privilege is Privilege.TEST
    restricted = analyze(with_scopes("stripe", "rak_balance_read", "rak_charge_read",
                                     identity=Identity(account="restricted-live")))
    assert (restricted.privilege, restricted.reach) == (Privilege.READ, ("stripe:balance", "stripe:charge"))
    writer = analyze(with_scopes("stripe", "rak_charge_write", identity=Identity(account="restricted-live")))
    assert writer.privilege is Privilege.WRITE


def test_openai_admin_and_project_keys() -> None:
    assert analyze(with_scopes("openai", rule_id="openai-admin-key")).privilege is Privilege.ADMIN
    assert analyze(with_scopes("openai", rule_id="openai-api-key")).privilege is Privilege.METERED


@pytest.mark.parametrize(
    "scopes, privilege",
    [
        (("role:write",), Privilege.WRITE),
        (("role:read",), Privilege.READ),
        (("role:fineGrained", "acme-ml:repo.content.read"), Privilege.READ),
        (("role:fineGrained", "acme-ml:repo.write"), Privilege.WRITE),
        (("role:fineGrained", "acme-ml:org.write"), Privilege.ADMIN),
    ],
)
def test_huggingface_roles(scopes: tuple[str, ...], privilege: Privilege) -> None:
    assert analyze(with_scopes("huggingface", *scopes, resources=("org:acme-ml",))).privilege is privilege


@pytest.mark.parametrize(
    "scopes, privilege, reach",
    [
        (("allow:*",), Privilege.ADMIN, ("*",)),
        (("managed:AdministratorAccess",), Privilege.ADMIN, ("*",)),
        (("allow:s3:PutObject", "allow:s3:GetObject"), Privilege.WRITE, ("aws:s3",)),
        (("allow:s3:GetObject", "allow:ec2:DescribeInstances"), Privilege.READ, ("aws:ec2", "aws:s3")),
        (("managed:ReadOnlyAccess",), Privilege.READ, ("aws:account",)),
        ((), None, ()),
    ],
)
def test_aws_policies(scopes: tuple[str, ...], privilege: Privilege | None, reach: tuple[str, ...]) -> None:
    result = analyze(with_scopes("aws", *scopes))
    assert (result.privilege, result.reach) == (privilege, reach)


@pytest.mark.parametrize(
    "granted, privilege",
    [
        (("resourcemanager.projects.setIamPolicy",), Privilege.ADMIN),
        (("storage.buckets.create", "storage.buckets.list"), Privilege.WRITE),
        (("storage.buckets.list", "resourcemanager.projects.get"), Privilege.READ),
    ],
)
def test_gcp_test_iam_permissions(granted: tuple[str, ...], privilege: Privilege) -> None:
    result = analyze(with_scopes("gcp", *(f"permission:{p}" for p in granted)))
    assert result.privilege is privilege


def test_revoked_and_unmapped_results_are_left_alone() -> None:
    assert analyze(revoked("github", "gone")).privilege is None
    assert analyze(with_scopes("notion", "anything")).privilege is None


def test_a_mapping_never_lowers_what_the_validator_set() -> None:
    result = analyze(with_scopes("slack", "channels:read", privilege=Privilege.ADMIN))
    assert result.privilege is Privilege.ADMIN
