"""GitLab: `GET /api/v4/personal_access_tokens/self` names the token's scopes, state and expiry; then
`GET /api/v4/user` names its user. Self-managed: `--endpoint gitlab=https://HOST`.

Docs: https://docs.gitlab.com/ee/api/personal_access_tokens.html#get-single-personal-access-token,
https://docs.gitlab.com/ee/api/users.html#for-non-administrator-users
"""

from __future__ import annotations

from scanner.validate.base import dig, parse_time, text_at, texts_at, unexpected
from scanner.validate.result import (
    Candidate,
    Identity,
    ValidationResult,
    active,
    revoked,
)
from scanner.validate.session import ProviderSession

API = "https://gitlab.com"


class PersonalTokenCheck:
    provider = "gitlab"
    rule_ids = ("gitlab-pat",)
    documented = (API,)

    def validate(self, candidate: Candidate, session: ProviderSession) -> ValidationResult:
        base = session.base_url(API) + "/api/v4"
        headers = {"PRIVATE-TOKEN": candidate.secret}
        response, token = session.json("GET", base + "/personal_access_tokens/self", headers=headers)
        if response.status == 401:
            return revoked(self.provider, "GitLab refused the token (401): revoked, expired or unknown")
        if response.status != 200 or not isinstance(token, dict) or not isinstance(token.get("scopes"), list):
            raise unexpected(response)
        expires = parse_time(token.get("expires_at"))
        if token.get("revoked") is True or token.get("active") is False:
            return revoked(self.provider, "GitLab reports the token revoked or inactive", expires_at=expires)
        scopes = texts_at(token, "scopes")
        user = self._user(session, base, headers) if "read_user" in scopes or "api" in scopes else None
        return active(
            self.provider,
            identity=Identity(user=user, account=text_at(token, "user_id")),
            scopes=scopes,
            resources=(f"token:{dig(token, 'name')}",) if token.get("name") else (),
            expires_at=expires,
        )

    def _user(self, session: ProviderSession, base: str, headers: dict[str, str]) -> str | None:
        response, user = session.json("GET", base + "/user", headers=headers)
        return text_at(user, "username") if response.status == 200 else None


VALIDATORS = [PersonalTokenCheck()]
