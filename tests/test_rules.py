"""Every shipped rule loads, compiles and passes its own examples; bad rule files fail clearly."""
from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import Engine
from scanner.engine.selftest import check_examples
from scanner.rules import RuleError, load_rules

RULES = load_rules()
ENGINE = Engine(RULES)


def test_rule_set_size_and_coverage():
    assert len(RULES) >= 250
    assert len(RULES.providers) >= 120
    required = {
        # cloud
        "aws", "gcp", "azure", "digitalocean", "cloudflare",
        # source hosting and package registries
        "github", "gitlab", "bitbucket", "npm", "pypi", "rubygems", "docker",
        # AI providers
        "openai", "anthropic", "huggingface", "cohere", "mistral", "groq", "replicate", "pinecone", "langchain",
        # payments
        "stripe", "square", "paypal",
        # messaging
        "slack", "twilio", "sendgrid", "mailgun", "discord", "telegram",
        # observability
        "datadog", "newrelic", "sentry", "grafana",
        # SaaS
        "shopify", "atlassian", "notion", "linear",
        # keys, tokens, connection strings, generic
        "private-key", "jwt", "db-connection", "generic", "password",
    }
    assert required <= RULES.providers, sorted(required - RULES.providers)


def test_credential_files_are_covered():
    names = " ".join(f"{r.id} {r.name}".lower() for r in RULES)
    for needle in ("netrc", "git-credentials", "pgpass", "npmrc", "pypirc", "docker", "htpasswd", "wp-config", "filezilla"):
        assert needle in names, needle


def test_every_private_key_format_is_covered():
    samples = [r.name.lower() for r in RULES if r.kind == "private-key"]
    for fmt in ("rsa", "openssh", "putty", "pgp", "ec", "pkcs8", "encrypted"):
        assert any(fmt in s for s in samples), fmt


def test_every_rule_carries_examples_and_priors():
    for r in RULES:
        assert r.examples and r.negative_examples, r.id
        assert r.privilege in {"admin", "write", "read", "metered", "test"}
        assert r.keywords or r.paths or r.kind in {"private-key", "generic"}, f"{r.id} has no keywords"


def test_every_rule_passes_its_examples():
    failures = check_examples(RULES, ENGINE)
    assert not failures, "\n".join(str(f) for f in failures[:30])


def test_every_pattern_compiles():
    for r in RULES:
        assert r.regex is not None


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    return f


GOOD = """provider: acme
rules:
  - id: acme-key
    name: Acme key
    kind: api-key
    keywords: [acme_]
    pattern: '(?P<secret>acme_[a-z0-9]{20})'
    privilege: read
    lifetime: static
    examples: ['k = acme_q8f2m4x7c1v9b3n6k0z5']
    negative_examples: ['acme_short']
"""


def test_a_good_custom_rule_file_loads_and_runs(tmp_path):
    rules = load_rules([_write(tmp_path, GOOD)])
    assert [r.id for r in rules] == ["acme-key"]
    assert not check_examples(rules)


@pytest.mark.parametrize(
    "change, field",
    [
        (("privilege: read", "privilege: root"), "privilege"),
        (("kind: api-key", "kind: thing"), "kind"),
        (("(?P<secret>acme_", "(acme_"), "pattern"),
        (("'(?P<secret>acme_[a-z0-9]{20})'", "'(?P<secret>acme_(?=x)[a-z0-9]{20})'"), "pattern"),
        (("lifetime: static", "lifetime: forever"), "lifetime"),
        (("    examples: ['k = acme_q8f2m4x7c1v9b3n6k0z5']\n", ""), "examples"),
        (("    negative_examples: ['acme_short']\n", ""), "negative_examples"),
        (("id: acme-key", "id: Acme_Key"), "id"),
        (("    privilege: read\n", "    privilege: read\n    colour: red\n"), "colour"),
    ],
)
def test_bad_rule_errors_name_file_rule_and_field(tmp_path, change, field):
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(RuleError) as err:
        load_rules([path])
    message = str(err.value)
    assert str(path) in message
    assert f"field '{field}'" in message


def test_invalid_yaml_and_bad_regex_are_reported(tmp_path):
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules([_write(tmp_path, "provider: [unclosed\n")])
    rules = load_rules([_write(tmp_path, GOOD.replace("[a-z0-9]{20}", "[a-z0-9{20}"))])
    with pytest.raises(RuleError, match="acme-key: field 'pattern'"):
        _ = rules.rules[0].regex


def test_underscore_files_in_a_rules_folder_are_data_not_rules(tmp_path):
    _write(tmp_path, GOOD)
    (tmp_path / "_documented-examples.yaml").write_text("examples:\n- source: x\n  values: [acme_0123456789abcdefghij]\n")
    assert [r.id for r in load_rules([tmp_path])] == ["acme-key"]


def test_keyword_leads_are_read_off_the_pattern():
    from scanner.rules.patterns import keyword_leads

    rules = load_rules().by_id
    # "subscription_key" starts 13 bytes before "key"; every other name starts at its keyword.
    assert rules["generic-secret-assignment"].keyword_leads == {
        "auth": 0, "bearer": 0, "cred": 0, "key": 13, "passw": 0, "pwd": 0, "salt": 0, "secret": 0, "token": 0}
    assert rules["github-pat-classic"].keyword_leads == {"ghp_": 0}
    assert keyword_leads(r"(?i:my[_-]?|our)?token=(?P<secret>\w+)", ("token",)) == {"token": 3}
    # A repeat longer than the room left is cut at it, not left out: the keyword is not in the match.
    assert rules["openai-api-key-context"].keyword_leads is None
    # A beginning with no keyword within the lead, or a construct the reader does not follow: no leads
    # (the rule's windows are searched).
    assert keyword_leads(r"\w{1,20}token=(?P<secret>\w+)", ("token",)) is None
    assert keyword_leads(r"(a)\1token(?P<secret>x)", ("token",)) is None
    assert keyword_leads(r"(?:x|y){0,30}key(?P<secret>\d+)", ("key",)) is None


def test_rule_cache(tmp_path, monkeypatch):
    """An unchanged rule set loads from the cache without reading its files; an edit of the same length is
    seen (a write moves the file's change time)."""
    import shutil

    from scanner.rules import loader

    monkeypatch.setenv("SPRAWL_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    # A few of the built-in files (each load of all of them from an empty cache checks 1,400 patterns).
    for name in ("stripe.yaml", "github.yaml", "slack.yaml", "aws.yaml"):
        shutil.copy(loader.builtin_rules_dir() / name, folder / name)
    first = loader.load_rules([folder])

    def no_reading(path):
        raise AssertionError(f"read {path}")

    with monkeypatch.context() as m:
        m.setattr(loader, "_read", no_reading)
        assert [r.id for r in loader.load_rules([folder])] == [r.id for r in first]
    stripe = folder / "stripe.yaml"
    text = stripe.read_text()
    rule = next(r for r in first if r.source_file.endswith("stripe.yaml"))
    stripe.write_text(text.replace(f"id: {rule.id}\n", f"id: {rule.id[:-1]}x\n", 1))
    assert len(stripe.read_text()) == len(text)
    assert f"{rule.id[:-1]}x" in {r.id for r in loader.load_rules([folder])}


def test_a_cache_entry_that_does_not_fit_is_read_again(tmp_path, monkeypatch):
    """A rule cache written by another version (a field this Rule does not have) is a miss, not a crash."""
    import json

    monkeypatch.setenv("SPRAWL_CACHE_DIR", str(tmp_path))
    rule_file = Path(__file__).parent.parent / "rules" / "github.yaml"
    first = load_rules([rule_file])
    [entry] = [p for p in tmp_path.glob("rules-*.json")]
    rules = json.loads(entry.read_text())
    for rule in rules:
        rule["a_field_of_another_version"] = 1
    entry.write_text(json.dumps(rules))
    again = load_rules([rule_file])
    assert [r.id for r in again] == [r.id for r in first] and again.version == first.version
