"""From what a provider said about a credential to DESIGN section 8's privilege (admin, write, read, metered,
test) and reach (the systems or scopes it opens; "*" for everything).

Invariant: a provider without a mapping, or a result without the evidence a mapping needs, keeps
privilege None (the blast radius then falls back to inventory scopes or the rule's prior); a mapping never
lowers a privilege the validator set. Guarded by tests/test_validate_permissions.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from scanner.validate.result import Privilege, Status, ValidationResult

RANK = {Privilege.TEST: 0, Privilege.METERED: 1, Privilege.READ: 2, Privilege.WRITE: 3, Privilege.ADMIN: 4}
WILDCARD = "*"


@dataclass(frozen=True)
class Analysis:
    privilege: Privilege | None
    reach: tuple[str, ...]


def _systems(prefix: str, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({f"{prefix}:{name}" for name in names if name}))


def github(result: ValidationResult) -> Analysis:
    """Classic and OAuth scopes (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps)."""
    scopes = set(result.scopes)
    if "installation" in scopes:
        return Analysis(Privilege.WRITE, tuple(f"github:repo:{r}" for r in result.resources))
    if not result.scopes and result.rule_id == "github-fine-grained-pat":
        return Analysis(None, ())  # fine-grained permissions are not named in any header
    admin = {"admin:org", "admin:enterprise", "site_admin", "delete_repo", "admin:org_hook"}
    write = {"repo", "public_repo", "workflow", "write:packages", "delete:packages", "write:org", "gist",
             "admin:repo_hook", "write:repo_hook", "admin:public_key", "write:public_key", "user", "codespace",
             "project", "write:discussion", "admin:gpg_key", "write:gpg_key", "admin:ssh_signing_key"}
    privilege = (Privilege.ADMIN if scopes & admin else Privilege.WRITE if scopes & write else Privilege.READ)
    family = {"repo": "repos", "public_repo": "repos", "workflow": "actions", "gist": "gists", "user": "user",
              "codespace": "codespaces", "project": "projects", "notifications": "notifications"}

    def system(scope: str) -> str:
        if scope in family:
            return family[scope]
        return scope.split(":", 1)[-1].replace("repo_hook", "hooks").replace("org_hook", "hooks")

    return Analysis(privilege, _systems("github", (system(s) for s in scopes)))


def gitlab(result: ValidationResult) -> Analysis:
    """Token scopes (https://docs.gitlab.com/ee/user/profile/personal_access_tokens.html#personal-access-token-scopes)."""
    scopes = set(result.scopes)
    if scopes & {"sudo", "admin_mode"}:
        return Analysis(Privilege.ADMIN, (WILDCARD,))
    if "api" in scopes:
        return Analysis(Privilege.WRITE, (WILDCARD,))
    writes = {s for s in scopes if s.startswith(("write_", "create_", "manage_")) or s in {"k8s_proxy", "ai_features"}}
    privilege = Privilege.WRITE if writes else Privilege.READ if scopes else None
    return Analysis(privilege, _systems("gitlab", (re.sub(r"^(read|write|create|manage)_", "", s) for s in scopes)))


def slack(result: ValidationResult) -> Analysis:
    """OAuth scopes (https://api.slack.com/scopes)."""
    scopes = set(result.scopes)
    if not scopes:
        return Analysis(None, ())
    if any(s == "admin" or s.startswith("admin.") for s in scopes):
        privilege = Privilege.ADMIN
    elif any(s.endswith(":write") or s in {"client", "post", "bot"} or ":write." in s for s in scopes):
        privilege = Privilege.WRITE
    else:
        privilege = Privilege.READ
    return Analysis(privilege, _systems("slack", (s.split(":", 1)[0].split(".", 1)[0] for s in scopes)))


def stripe(result: ValidationResult) -> Analysis:
    """Key type and restricted-key permissions (https://docs.stripe.com/keys#limit-access)."""
    kind = result.identity.account or ""
    if kind.endswith("-test"):
        return Analysis(Privilege.TEST, ("stripe:test-mode",))
    if WILDCARD in result.scopes:
        return Analysis(Privilege.ADMIN, (WILDCARD,))
    if not result.scopes:
        return Analysis(Privilege.READ if kind.startswith("restricted") else None, ())
    writes = [s for s in result.scopes if s.endswith("_write")]
    names = (s.removeprefix("rak_").rsplit("_", 1)[0] for s in result.scopes)
    return Analysis(Privilege.WRITE if writes else Privilege.READ, _systems("stripe", names))


def openai(result: ValidationResult) -> Analysis:
    """Admin keys manage the organization; other keys spend on the API (https://platform.openai.com/docs/api-reference/administration)."""
    if result.rule_id == "openai-admin-key":
        return Analysis(Privilege.ADMIN, ("openai:organization", "openai:projects", "openai:keys"))
    return Analysis(Privilege.METERED, ("openai:models",))


def huggingface(result: ValidationResult) -> Analysis:
    """Token roles and fine-grained permissions (https://huggingface.co/docs/hub/security-tokens)."""
    roles = {s.split(":", 1)[1] for s in result.scopes if s.startswith("role:")}
    grants = [s for s in result.scopes if not s.startswith("role:")]
    reach = _systems("huggingface", (r.removeprefix("org:") for r in result.resources))
    if "admin" in roles or any(g.endswith((".manage", "org.write")) for g in grants):
        return Analysis(Privilege.ADMIN, reach or ("huggingface:account",))
    if "write" in roles or any(g.endswith(".write") for g in grants):
        return Analysis(Privilege.WRITE, reach or ("huggingface:account",))
    if roles or grants:
        return Analysis(Privilege.READ, reach or ("huggingface:account",))
    return Analysis(None, reach)


READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Head", "View", "Search", "Select", "Query", "Scan", "Lookup")


def aws(result: ValidationResult) -> Analysis:
    """Readable attached and inline IAM policies: admin when an Allow covers `*` (`*:*`) on Resource `*`."""
    managed = {s.removeprefix("managed:") for s in result.scopes if s.startswith("managed:")}
    actions = [s.removeprefix("allow:") for s in result.scopes if s.startswith("allow:")]
    if {"*", "*:*"} & set(actions) or managed & {"AdministratorAccess", "IAMFullAccess"}:
        return Analysis(Privilege.ADMIN, (WILDCARD,))
    services = {a.split(":", 1)[0] for a in actions if ":" in a}
    writes = [a for a in actions if a.endswith(":*") or not a.split(":", 1)[-1].startswith(READ_VERBS)]
    if writes or any(m.endswith("FullAccess") or m.startswith("PowerUser") for m in managed):
        return Analysis(Privilege.WRITE, _systems("aws", services) or ("aws:account",))
    if actions or managed:
        return Analysis(Privilege.READ, _systems("aws", services) or ("aws:account",))
    return Analysis(None, ())


GCP_ADMIN = {"resourcemanager.projects.setIamPolicy", "iam.serviceAccountKeys.create", "iam.serviceAccounts.actAs",
             "iam.roles.create"}


def gcp(result: ValidationResult) -> Analysis:
    """testIamPermissions answers on the key's project (`permission:NAME` scopes)."""
    granted = {s.removeprefix("permission:") for s in result.scopes if s.startswith("permission:")}
    if not granted:
        return Analysis(None, ())
    services = _systems("gcp", (p.split(".", 1)[0] for p in granted))
    if granted & GCP_ADMIN:
        return Analysis(Privilege.ADMIN, services)
    verbs = {p.rsplit(".", 1)[-1] for p in granted}
    if verbs - {"get", "list", "getIamPolicy"}:
        return Analysis(Privilege.WRITE, services)
    return Analysis(Privilege.READ, services)


MAPPERS: dict[str, Callable[[ValidationResult], Analysis]] = {
    "github": github, "gitlab": gitlab, "slack": slack, "stripe": stripe, "openai": openai,
    "huggingface": huggingface, "aws": aws, "gcp": gcp,
}


def analyze(result: ValidationResult) -> ValidationResult:
    """`result` with privilege and reach from its scopes, for the providers above; only active results."""
    mapper = MAPPERS.get(result.provider)
    if mapper is None or result.status is not Status.ACTIVE:
        return result
    found = mapper(result)
    privilege = result.privilege
    if found.privilege is not None and (privilege is None or RANK[found.privilege] > RANK[privilege]):
        privilege = found.privilege
    return replace(result, privilege=privilege, reach=result.reach or found.reach)
