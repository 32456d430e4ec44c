"""Is a name secret-ish, and is the value assigned to it a secret?

Names are split into words (snake_case, camelCase, UPPER_CASE, dotted and dashed forms) so that
`dbPassword`, `DB_PASSWORD` and `db.password` are judged alike, and `author` or `tokenizer` are not
mistaken for `auth` or `token`.
"""
from __future__ import annotations

import functools
import re

from scanner.engine.filters import documented_example, placeholder_reason

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# One word that makes a name secret-ish on its own.
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "auth", "credential",
     "credentials", "creds", "apikey", "privatekey", "accesskey", "secretkey", "authtoken", "accesstoken",
     "apitoken", "clientsecret", "dbpass", "dbpassword", "adminpassword", "rootpassword", "masterkey",
     "authorization", "bearer"}
)
# Two words that do: api key, private key, access key...
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("client", "key"),
     ("signing", "key"), ("encryption", "key"), ("master", "key"), ("license", "key"), ("account", "key"),
     ("service", "key"), ("app", "key"), ("sas", "key"), ("shared", "key"), ("storage", "key")}
)
# A word after the secret word that turns the name into something about the secret, not the secret:
# password_min_length, token_type, secret_name, api_key_id, password_hash, token_url...
_ABOUT_WORDS = frozenset(
    {"length", "len", "min", "max", "size", "count", "type", "kind", "name", "names", "label", "field", "fields",
     "path", "file", "files", "dir", "url", "uri", "endpoint", "host", "expiry", "expires", "expiration", "exp",
     "ttl", "timeout", "lifetime", "prefix", "suffix", "format", "policy", "policies", "id", "ids", "hash",
     "hashed", "digest", "sha", "checksum", "fingerprint", "enabled", "required", "regex", "pattern",
     "placeholder", "hint", "message", "msg", "prompt", "text", "error", "errors", "mode", "method", "scheme",
     "provider", "version", "strategy", "index", "rotation", "reset", "validation", "validator", "strength",
     "visible", "visibility", "hidden", "input", "form", "column", "ref", "arn", "env", "var", "variable",
     "location", "store", "manager", "source", "class", "title", "description", "help", "usage", "char",
     "chars", "charset", "alphabet", "changed", "updated", "created", "at", "date", "time", "expired",
     "template", "generator", "limit", "attempts", "retries", "tip", "selector", "button", "link",
     "route", "page", "view", "handler", "service", "client", "lookup", "mount", "key", "header"}
)
# Words that anywhere in the name mean "not a credential".
_NOT_SECRET_WORDS = frozenset(
    {"public", "pub", "csrf", "xsrf", "nonce", "captcha", "integrity", "checksum", "fingerprint", "uuid",
     "tokenizer", "tokenize", "tokens_used", "author", "sha256", "sha512", "md5", "sha1", "hashed", "is", "has",
     "use", "show", "enable", "disable", "allow", "needs", "should", "validate", "forgot", "cursor", "pagination",
     "continuation", "encrypted"}
)
# A boolean-ish leading word marks a flag, not a value: is_password_set, hasToken, usePassword.
_LEADING_FLAG_WORDS = frozenset({"is", "has", "use", "show", "enable", "disable", "allow", "needs", "should"})


_SAMPLE_NAME_WORDS = frozenset({"test", "fake", "dummy", "example", "sample", "mock", "stub", "demo"})


def sample_name(name: str) -> bool:
    """test_password, fakeToken, EXAMPLE_API_KEY: a credential that says it is a sample is reported lower."""
    return any(w in _SAMPLE_NAME_WORDS for w in name_words(name))


def name_words(name: str) -> list[str]:
    """['db', 'password'] for dbPassword, DB_PASSWORD, db.password and db-password."""
    # config["api_key"] is named by its last subscript, not by the dict.
    parts = [p for p in re.split(r"[\[\]'\"`]", name) if any(c.isalpha() for c in p)]
    last = parts[-1] if parts else name
    return [w.lower() for w in _WORDS.findall(last.split("->")[-1])]


def secret_word_index(words: list[str]) -> int | None:
    """Index of the (last) word that makes the name secret-ish, or None."""
    found = None
    for i, w in enumerate(words):
        if w in _SECRET_WORDS or (i and (words[i - 1], w) in _SECRET_PAIRS):
            found = i
        elif len(w) > 6 and any(w.endswith(s) for s in ("password", "passwd", "secret", "token", "apikey")):
            found = i
    return found


def is_secret_name(name: str) -> bool:
    """A name such as password, apiKey, DB_PASSWORD, client.secret, X-API-Key; not password_min_length."""
    return secret_name_kind(name) is not None


@functools.lru_cache(maxsize=4096)  # logs repeat the same few names on every line
def secret_name_kind(name: str) -> str | None:
    """'password' or 'generic' for a secret-ish name; None for other names and names about a secret."""
    words = name_words(name)
    idx = secret_word_index(words)
    if idx is None:
        return None
    if any(w in _NOT_SECRET_WORDS for w in words):
        return None
    if words[0] in _LEADING_FLAG_WORDS:
        return None
    # Words after the secret word say what the name is about: token_type, password_min_length.
    # A key word after a secret word is part of the credential's name (secret_key, auth_key).
    tail = words[idx + 1 :]
    if any(w in _ABOUT_WORDS and not (w == "key" and i == 0) for i, w in enumerate(tail)):
        return None
    head = words[idx]
    return "password" if ("pass" in head or head == "pwd") else "generic"


def about_secret(name: str) -> bool:
    """password_min_length, token_type, secretName, api_key_id: a name about a secret, not holding one."""
    words = name_words(name)
    idx = secret_word_index(words)
    if idx is None:
        return False
    if any(w in _NOT_SECRET_WORDS for w in words) or words[0] in _LEADING_FLAG_WORDS:
        return True
    return any(w in _ABOUT_WORDS and not (w == "key" and i == 0) for i, w in enumerate(words[idx + 1 :]))


# --- values ---------------------------------------------------------------------------------------

_LOOKUP = re.compile(
    r"os\.environ|getenv|process\.env|import\.meta\.env|System\.getenv|System\.getProperty|ENV\[|ENV\.fetch|"
    r"\bvault\b|secretsmanager|secret_manager|SecretManager|get_secret|getSecret|keyvault|KeyVault|\bssm\b|"
    r"Deno\.env|os\.Getenv|LookupEnv|config\.get|settings\.|credentials\(|\benv\(|\$ENV\{|Environment\.",
    re.IGNORECASE,
)
_HASHED = re.compile(
    r"^(?:sha(?:1|256|384|512)-[A-Za-z0-9+/]{20,}={0,2}"  # lockfile integrity
    r"|\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}"  # bcrypt
    r"|\$(?:argon2(?:id|i|d)|scrypt|pbkdf2[-_a-z0-9]*|[156y])\$\S+"  # modular crypt
    r"|pbkdf2_sha\d+\$\S+|sha\d+\$\S+|md5\$\S+|\{(?:SSHA|SHA|SSHA256|SSHA512|CRYPT)\}\S+)$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PUBLIC_KEY = re.compile(r"^(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+|sk-ssh-\S+) |-----BEGIN (?:[A-Z]+ )?PUBLIC KEY|^age1[a-z0-9]{50,}$")
# A value made of words that name something: db_password, SECRET_KEY, config.api.token, apiToken.
_IDENTIFIER = re.compile(
    r"^(?:[a-z]+(?:[_.\-][a-z]+)+|[A-Z]+(?:_[A-Z]+)+|[a-z]+(?:[A-Z][a-z]+)+|[A-Za-z_]+(?:\.[A-Za-z_]+)+|"
    r"[a-z]+(?:_[a-z]+)*\(\)?)$"
)
_FAKE = re.compile(r"fake|dummy|sample|example|placeholder|notreal|not[_\-. ]a[_\-. ]real|invalid|bogus|mock", re.I)
_NON_SECRET_VALUES = frozenset(
    {"bearer", "basic", "jwt", "oauth", "oauth2", "token", "apikey", "api_key", "digest", "hmac", "none", "hidden",
     "password", "secret", "required", "optional", "true", "false", "null", "string", "text", "str", "int"}
)


@functools.lru_cache(maxsize=8192)  # logs assign the same few values on every line
def value_reason(value: str) -> str | None:
    """Why a value assigned to a secret-ish name is not a credential, or None if it may be one."""
    v = value.strip()
    if not v:
        return "empty value"
    if reason := placeholder_reason(v):
        return reason
    if documented_example(v):
        return "documented example"
    if _LOOKUP.search(v):
        return "environment or secret-manager lookup"
    if v.lower() in _NON_SECRET_VALUES or v.isdigit():
        return "not a credential value"
    if _HASHED.match(v):
        return "hash or digest"
    if _UUID.match(v):
        return "UUID"
    if _PUBLIC_KEY.search(v):
        return "public key"
    if _IDENTIFIER.match(v):
        return "names a variable or setting"
    if _FAKE.search(v) and not any(c.isdigit() for c in v):
        return "marked as fake or sample"
    if v.startswith(("http://", "https://", "/", "./", "../", "~/", "file:")) and "@" not in v:
        return "a path or URL"
    return None


# Words of messages, labels and prompts (`password: "must be at least 8 characters"`), never of a passphrase
# someone chose to authenticate with.
_MESSAGE_WORDS = frozenset(
    {"a", "an", "the", "is", "are", "be", "been", "was", "must", "should", "can", "cannot", "could", "will", "not",
     "your", "you", "please", "enter", "type", "invalid", "required", "incorrect", "wrong", "missing", "empty",
     "least", "characters", "chars", "field", "to", "for", "of", "with", "and", "or", "this", "that", "new", "old",
     "confirm", "reset", "change", "forgot", "here", "set", "use", "using", "if", "when", "do", "does", "did",
     "password", "passphrase", "secret", "token", "key", "match", "matches", "too", "short", "long", "expired",
     "failed", "error", "user", "username", "login", "sign", "in", "on", "by", "from", "no", "yes", "none"}
)
_PASSPHRASE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$%&*+\-@^_~]{1,23}")


def passphrase(value: str) -> bool:
    """Two to eight words separated by single spaces, none of them a word of a message or prompt, ten
    characters or more: `correct horse battery staple` under a password name is the password
    (tests/test_detection_cases.py::test_a_quoted_passphrase_under_a_password_name)."""
    words = value.split(" ")
    if not 2 <= len(words) <= 8 or len(value) < 10:
        return False
    return all(_PASSPHRASE_WORD.fullmatch(w) and w.lower() not in _MESSAGE_WORDS for w in words)


def passphrase_name(name: str) -> bool:
    """A name that may hold a passphrase: a password's, or one that says passphrase or secret."""
    words = name_words(name)
    return secret_name_kind(name) == "password" or any(w in ("passphrase", "secret") for w in words)


# Names under which a UUID identifies something (a tenant, a client, a request) rather than granting access.
_UUID_ID_WORDS = frozenset(
    {"id", "ids", "uuid", "guid", "tenant", "client", "subscription", "account", "org", "organization", "project",
     "request", "session", "trace", "correlation", "user", "object", "resource", "instance", "workspace",
     "device", "installation", "install", "app", "application", "idempotency", "nonce", "cursor", "public",
     "publishable", "site", "team", "group", "directory", "customer", "partner", "product", "service"}
)


# Words that name a credential whatever qualifies them: a client's or an app's secret is still a secret, where
# a client's key or a session's token may be an identifier.
_UUID_SECRET_WORDS = frozenset({"secret", "password", "passwd", "pwd", "passphrase", "private"})


def uuid_may_be_secret(name: str) -> bool:
    """A UUID under a key, token, secret or password name (Heroku API keys, MongoDB Atlas private keys,
    Postmark server tokens, older Keycloak client secrets are UUIDs) may be the credential; under a name with
    an identifier word (tenant, client, subscription, *_id) it names something, unless the name says secret,
    password or private (client_secret, app_secret) (tests/test_detection_cases.py::
    test_a_uuid_under_a_secret_name_but_not_under_an_identifier_name)."""
    if secret_name_kind(name) is None:
        return False
    words = name_words(name)
    return not any(w in _UUID_ID_WORDS for w in words) or any(w in _UUID_SECRET_WORDS for w in words)


def lookup_reason(expression: str) -> str | None:
    """Why the expression around a value is a lookup (the value is a variable's name, not its value)."""
    return "environment or secret-manager lookup" if _LOOKUP.search(expression) else None
