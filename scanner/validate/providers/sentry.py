"""Sentry: the organizations the auth token reaches. Docs: https://docs.sentry.io/api/organizations/list-your-organizations/"""

from scanner.validate.base import HttpCheck, is_list

VALIDATORS = [
    HttpCheck(
        provider="sentry",
        rule_ids=("sentry-user-auth-token", "sentry-org-auth-token", "sentry-access-token"),
        base="https://sentry.io",
        path="/api/0/organizations/",
        insufficient_statuses=frozenset({403}),
        resources_path="",
        accepted=is_list,
        resources_key="slug",
        extra_documented=("https://*.sentry.io",),
    )
]
