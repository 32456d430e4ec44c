"""Every HTTP validator against a loopback server answering from its recorded fixtures: active, revoked and
insufficient-scope answers map as the provider documents them; 429, 503, HTML/WAF pages, redirects and slow
answers are indeterminate for every one of them; the secret never appears in a result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from scanner.validate.result import Candidate
from tests.providerserver import FIXTURES, load_fixture, serving
from tests.validatekit import (
    HEX,
    assert_expected,
    everywhere,
    fixture_responder,
    rand,
    reply_of,
    runner_for,
    validate,
)

DIGITS = "0123456789"
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
URLSAFE = LETTERS + DIGITS + "_-"


@dataclass(frozen=True)
class Spec:
    rule_id: str
    provider: str
    secret: str
    groups: dict[str, str] = field(default_factory=dict)


def specs() -> dict[str, Spec]:
    """Fixture name -> a candidate in the provider's documented format (random, generated per run)."""
    return {
        "openai": Spec("openai-api-key", "openai", f"sk-proj-{rand(40)}T3BlbkFJ{rand(40)}"),
        "anthropic": Spec("anthropic-api-key", "anthropic", f"sk-ant-api03-{rand(93, URLSAFE)}AA"),
        "cohere": Spec("cohere-api-key", "cohere", rand(40)),
        "mistral": Spec("mistral-api-key", "mistral", rand(32)),
        "groq": Spec("groq-api-key", "groq", f"gsk_{rand(52)}"),
        "replicate": Spec("replicate-api-token", "replicate", f"r8_{rand(37)}"),
        "pinecone": Spec("pinecone-api-key", "pinecone", f"pcsk_{rand(6)}_{rand(60)}"),
        "langchain": Spec("langchain-langsmith-personal-token", "langchain", f"lsv2_pt_{rand(32, HEX)}_{rand(10, HEX)}"),
        "npm": Spec("npm-access-token", "npm", f"npm_{rand(36)}"),
        "digitalocean": Spec("digitalocean-personal-access-token", "digitalocean", f"dop_v1_{rand(64, HEX)}"),
        "heroku": Spec("heroku-api-key-v2", "heroku", f"HRKU-AA{rand(58, URLSAFE)}"),
        "notion": Spec("notion-integration-token", "notion", f"ntn_{rand(11, DIGITS)}{rand(35)}"),
        "sendgrid": Spec("sendgrid-api-key", "sendgrid", f"SG.{rand(22, URLSAFE)}.{rand(43, URLSAFE)}"),
        "cloudflare": Spec("cloudflare-api-token", "cloudflare", rand(40, URLSAFE)),
        "sentry": Spec("sentry-user-auth-token", "sentry", f"sntryu_{rand(64, HEX)}"),
        "pagerduty": Spec("pagerduty-api-key", "pagerduty", rand(20, URLSAFE)),
        "square": Spec("square-production-access-token", "square", f"EAAA{rand(60, URLSAFE)}"),
        "github": Spec("github-pat-classic", "github", f"ghp_{rand(36)}"),
        "github_installation": Spec("github-app-token", "github", f"ghs_{rand(36)}"),
        "gitlab": Spec("gitlab-pat", "gitlab", f"glpat-{rand(20, URLSAFE)}"),
        "slack": Spec("slack-bot-token", "slack", f"xoxb-{rand(12, DIGITS)}-{rand(13, DIGITS)}-{rand(24)}"),
        "slack_webhook": Spec(
            "slack-webhook-url", "slack", f"https://hooks.slack.com/services/T00000000/B00000000/{rand(24)}"
        ),
        "discord": Spec("discord-bot-token", "discord", f"M{rand(25, URLSAFE)}.{rand(6, URLSAFE)}.{rand(38, URLSAFE)}"),
        "discord_webhook": Spec(
            "discord-webhook-url", "discord", f"https://discord.com/api/webhooks/{rand(18, DIGITS)}/{rand(68, URLSAFE)}"
        ),
        "telegram": Spec("telegram-bot-token", "telegram", f"{rand(10, DIGITS)}:A{rand(34, URLSAFE)}"),
        "twilio": Spec("twilio-auth-token", "twilio", rand(32, HEX), {"account_sid": f"AC{rand(32, HEX)}"}),
        "mailgun": Spec("mailgun-private-api-key", "mailgun", f"key-{rand(32, HEX)}"),
        "datadog": Spec("datadog-api-key", "datadog", rand(32, HEX)),
        "newrelic": Spec("newrelic-user-api-key", "newrelic", f"NRAK-{rand(27).upper()}"),
        "linear": Spec("linear-api-key", "linear", f"lin_api_{rand(40)}"),
        "stripe": Spec("stripe-live-secret-key", "stripe", f"sk_live_5{rand(98)}"),
        "paypal": Spec("paypal-client-secret", "paypal", f"E{rand(80, URLSAFE)}", {"client_id": f"A{rand(80, URLSAFE)}"}),
        "shopify": Spec("shopify-access-token", "shopify", f"shpat_{rand(32, HEX)}", {"shop": "acme.myshopify.com"}),
        "atlassian": Spec(
            "atlassian-api-token", "atlassian", f"ATATT3{rand(186, URLSAFE)}",
            {"site": "acme.atlassian.net", "email": "agent@example.com"},
        ),
        "bitbucket": Spec("bitbucket-app-password", "bitbucket", f"ATBB{rand(32)}", {"username": "deploy-bot"}),
        "docker": Spec("docker-hub-personal-access-token", "docker", f"dckr_pat_{rand(27, URLSAFE)}", {"username": "acmebot"}),
        "huggingface": Spec("huggingface-access-token", "huggingface", f"hf_{rand(34, LETTERS)}"),
        "googleai": Spec("gcp-api-key", "gcp", f"AIza{rand(35, URLSAFE)}"),
        "grafana": Spec(
            "grafana-service-account-token", "grafana", f"glsa_{rand(32)}_{rand(8, HEX)}", {"url": "acme.grafana.net"}
        ),
        "azure": Spec(
            "azure-ad-client-secret", "azure", f"abc8Q~{rand(34, URLSAFE)}",
            {"tenant_id": "72f988bf-0000-4000-8000-000000000000", "client_id": "6731de76-0000-4000-8000-000000000000"},
        ),
    }


SPECS = specs()
CASES = [
    (name, case)
    for name in SPECS
    for case in load_fixture(name)["cases"]
    if "expect" in load_fixture(name)["cases"][case]
]
COMMON = list(load_fixture("_common")["cases"])


def candidate_of(spec: Spec) -> Candidate:
    return Candidate(spec.rule_id, spec.provider, spec.secret, spec.groups)


def test_every_fixture_names_its_documentation_source() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text())
        assert document["source"].startswith("https://"), path.name


def test_every_provider_family_has_active_and_revoked_cases() -> None:
    for name in SPECS:
        cases = load_fixture(name)["cases"]
        assert {"active", "revoked"} <= set(cases), name


@pytest.mark.parametrize("fixture, case", CASES)
def test_fixture_case_maps_as_documented(fixture: str, case: str) -> None:
    spec = SPECS[fixture]
    expect = load_fixture(fixture)["cases"][case]["expect"]
    with serving(fixture_responder(fixture, case)) as server:
        result = validate(runner_for(spec.provider, server.url), candidate_of(spec))
    assert_expected(result, expect)
    assert server.requests, "the validator asked nothing"
    assert spec.secret not in json.dumps(result.to_dict())
    assert result.request is not None and result.checked_at is not None


@pytest.mark.parametrize("fixture", list(SPECS))
@pytest.mark.parametrize("case", COMMON)
def test_unusable_answers_are_indeterminate_for_every_provider(fixture: str, case: str) -> None:
    spec = SPECS[fixture]
    common = load_fixture("_common")["cases"][case]
    # A short read timeout only for the answer that comes late ("slow"): the others must arrive, and on a loaded
    # machine (CI ran the suite on two workers) 0.1 s was once too little for an immediate redirect.
    with serving(everywhere(reply_of(common))) as server:
        runner = runner_for(spec.provider, server.url, read_timeout=0.1 if common.get("delay") else 10.0)
        result = validate(runner, candidate_of(spec))
    assert_expected(result, common["expect"])
    assert result.status.value != "active"


def test_without_allow_internal_nothing_is_sent_and_the_reason_says_why() -> None:
    spec = SPECS["github"]
    with serving(fixture_responder("github", "active")) as server:
        result = validate(runner_for("github", server.url, allow_internal=False), candidate_of(spec))
    assert result.status.value == "indeterminate"
    assert "loopback" in result.reason and "--allow-internal-endpoints" in result.reason
    assert server.requests == []


def test_github_sends_the_token_only_to_github_and_records_no_secret() -> None:
    spec = SPECS["github"]
    with serving(fixture_responder("github", "active")) as server:
        result = validate(runner_for("github", server.url), candidate_of(spec))
    assert [r.path for r in server.requests] == ["/user"]
    assert server.requests[0].header("Authorization") == f"Bearer {spec.secret}"
    assert result.request is not None and result.request.method == "GET" and result.request.url.endswith("/user")


def test_telegram_token_in_path_is_masked_in_the_recorded_request() -> None:
    spec = SPECS["telegram"]
    with serving(fixture_responder("telegram", "active")) as server:
        result = validate(runner_for("telegram", server.url), candidate_of(spec))
    assert server.requests[0].path == f"/bot{spec.secret}/getMe"
    assert result.request is not None and result.request.url.endswith("/bot***/getMe")


def test_slack_webhook_is_checked_without_a_message() -> None:
    spec = SPECS["slack_webhook"]
    with serving(fixture_responder("slack_webhook", "active")) as server:
        result = validate(runner_for("slack", server.url), candidate_of(spec))
    assert result.status.value == "active"
    assert server.requests[0].method == "POST" and server.requests[0].body == b"{}"
    assert result.request is not None and spec.secret.rsplit("/", 1)[1] not in result.request.url


def test_paired_value_missing_is_indeterminate_and_sends_nothing() -> None:
    spec = SPECS["atlassian"]
    with serving(fixture_responder("atlassian", "active")) as server:
        lone = Candidate(spec.rule_id, spec.provider, spec.secret)
        result = validate(runner_for("atlassian", server.url), lone)
    assert result.status.value == "indeterminate" and "site" in result.reason
    assert server.requests == []


def test_restricted_stripe_key_reports_the_read_permissions_it_holds() -> None:
    secret = f"rk_live_5{rand(98)}"
    balance_only = {
        "/v1/balance": reply_of(load_fixture("stripe")["cases"]["active"]),
    }
    denied = reply_of(load_fixture("stripe")["cases"]["permission_error"])

    def respond(received):  # type: ignore[no-untyped-def]
        return balance_only.get(received.path.split("?", 1)[0], denied)

    with serving(respond) as server:
        result = validate(runner_for("stripe", server.url),
                          Candidate("stripe-live-restricted-key", "stripe", secret))
    assert result.status.value == "active"
    assert result.scopes == ("rak_balance_read",)
    assert result.identity.account == "restricted-live"
    assert len(server.requests) == 5
