"""GitHub: `GET /user` for personal, OAuth and user-to-server tokens (scopes in `X-OAuth-Scopes`, expiry in
`GitHub-Authentication-Token-Expiration`); `GET /installation/repositories` for installation tokens.

Docs: https://docs.github.com/en/rest/users/users#get-the-authenticated-user,
https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps,
https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation
Enterprise Server: `--endpoint github=https://HOST/api/v3`.
"""

from __future__ import annotations

from dataclasses import replace

from scanner.validate.base import HttpCheck, dig, parse_time, texts_at, unexpected
from scanner.validate.result import Candidate, ValidationResult, active, revoked
from scanner.validate.session import ProviderSession

API = "https://api.github.com"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

USER = HttpCheck(
    provider="github",
    rule_ids=("github-pat-classic", "github-oauth-token", "github-fine-grained-pat"),
    base=API,
    path="/user",
    expect_path="login",
    extra_headers=HEADERS,
    insufficient_statuses=frozenset({403}),
    identity={"user": "login", "account": "id", "org": "company"},
    scopes_header="X-OAuth-Scopes",
)


class UserTokenCheck:
    """`GET /user`, then the token's expiry from its header."""

    provider = "github"
    rule_ids = USER.rule_ids
    documented = USER.documented

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        headers = {**HEADERS, "Authorization": f"Bearer {candidate.secret}"}
        response = session.request("GET", session.base_url(API) + "/user", headers=headers)
        result = USER.read(response)
        expiry = parse_time(response.header("GitHub-Authentication-Token-Expiration"))
        return replace(result, expires_at=expiry) if expiry else result


class InstallationTokenCheck:
    """Installation (`ghs_`) and user-to-server (`ghu_`) tokens: the repositories they reach, else `/user`."""

    provider = "github"
    rule_ids = ("github-app-token", "github-app-installation-token-jwt")
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        headers = {**HEADERS, "Authorization": f"Bearer {candidate.secret}"}
        if candidate.secret.startswith("ghu_"):
            return USER.read(session.request("GET", session.base_url(API) + "/user", headers=headers))
        url = session.base_url(API) + "/installation/repositories?per_page=100"
        response, document = session.json("GET", url, headers=headers)
        if response.status == 401:
            return revoked(self.provider, "GitHub refused the installation token (401)")
        if response.status != 200 or not isinstance(dig(document, "repositories"), list):
            raise unexpected(response)
        repos = texts_at(document, "repositories", "full_name")
        owners = sorted({name.split("/", 1)[0] for name in repos})
        identity_org = owners[0] if len(owners) == 1 else None
        from scanner.validate.result import Identity

        return active(
            self.provider,
            "installation token accepted",
            identity=Identity(org=identity_org),
            resources=repos,
            scopes=("installation",),
        )


VALIDATORS = [UserTokenCheck(), InstallationTokenCheck()]
