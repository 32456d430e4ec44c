"""The case classes issue 20 left open, on realistic files scanned from disk by `scan_paths`: passphrases
with spaces, tokens split across string literals, keys passed positionally to a provider's SDK client,
the checksums of Grafana service account tokens and GitLab routable tokens; and the look-alikes that
must stay quiet beside them (base64 JSON cursors, %(ENV_X)s and ${X:?message} templates, jwt.io's
sample token, messages under password names).

Every secret is generated per run in its provider's documented format, so no test string can be tuned to."""
from __future__ import annotations

import base64
import binascii
import json
import secrets as rnd
import string
from pathlib import Path

from scanner import ScanOptions, scan_paths
from scanner.rules.checks import run_check

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
WORDS = ("amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harbor", "indigo", "juniper", "kestrel",
         "lantern", "meadow", "nectar", "obsidian", "pylon", "quartz", "raven", "saffron", "tundra", "umber", "vellum")


def token(n: int = 32, alphabet: str = ALNUM) -> str:
    """Random, with at least one digit (the shape every key rule expects of a random value)."""
    return "".join(rnd.choice(alphabet) for _ in range(n - 1)) + rnd.choice(string.digits)


def between(lo: int, hi: int) -> int:
    return lo + rnd.randbelow(hi - lo)


def passphrase(n: int = 4) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n)) + f" {between(10, 99)}"


def base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out.rjust(width, "0")


def grafana_sa_token(valid: bool = True) -> str:
    """glsa_<32 alphanumerics>_<CRC32 of the rest, little-endian hex>, as Grafana's satokengen builds it."""
    key = "glsa_" + token(32)
    crc = binascii.crc32(key.encode()).to_bytes(4, "little").hex()
    return f"{key}_{crc if valid else crc[::-1] if crc[::-1] != crc else '00000000'}"


def gitlab_routable_token(valid: bool = True) -> str:
    """glpat-<base64url(16 random bytes, routing payload, its length)>.01.<payload length><CRC32>, both base36."""
    payload = f"c:{base36(between(1, 9), 1)}\no:{base36(between(10**3, 10**6), 1)}"
    raw = rnd.token_bytes(16) + payload.encode() + bytes([len(payload)])
    b64 = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = f"glpat-{b64}.01.{base36(len(b64), 2)}"
    crc = base36(binascii.crc32(head.encode()), 7)
    return head + (crc if valid else base36((int(crc, 36) + 1) % 36**7, 7))


def findings(folder: Path, floor: str = "medium") -> dict[str, str]:
    """secret -> confidence of every finding at or above floor."""
    result = scan_paths([str(folder)], ScanOptions(jobs=1, show_secrets=True, min_confidence=floor))
    return {f.secret: f.confidence for f in result.findings if f.secret}


def test_a_quoted_passphrase_under_a_password_name(tmp_path):
    py, env, yml = passphrase(), passphrase(3), passphrase(5)
    (tmp_path / "settings.py").write_text(f'''import os

DEBUG = False
DATABASE_PASSWORD = "{py}"
PASSWORD_HELP = "must be at least twelve characters"
LOGIN_ERROR = "password is incorrect"
password_label = "Your password"
''')
    (tmp_path / ".env").write_text(f'BACKUP_PASSPHRASE="{env}"\nAPP_NAME="billing api"\n')
    (tmp_path / "vault.yml").write_text(f'gpg:\n  passphrase: "{yml}"\n  comment: "signing key for releases"\n')
    found = findings(tmp_path)
    assert {py, env, yml} <= set(found), found
    assert all(not v.startswith(("must", "password", "Your", "billing", "signing")) for v in found), found


def test_a_short_run_in_a_password_is_not_filler(tmp_path):
    """kestrel123456 is how people build passwords: reported at medium; abcdefghij... stays low."""
    human, filler = f"{rnd.choice(WORDS)}123456", "abcdefghijklmnop" + token(4)
    (tmp_path / "config.py").write_text(f'smtp_password = "{human}"\nINGEST_API_KEY = "{filler}"\n')
    assert human in findings(tmp_path)
    assert filler not in findings(tmp_path)


def test_tokens_split_across_string_literals(tmp_path):
    py_plus, py_implicit, js, php = token(32), token(36), token(40), token(20, ALNUM + "_-")
    (tmp_path / "billing.py").write_text(f'''import stripe

stripe.api_key = "sk_live_" + "{py_plus}"
GITHUB_TOKEN = ("ghp_"
                "{py_implicit}")
PREFIX = "sk_live_" + key_id
if token.startswith("ghp_") or token.startswith("gho_"):
    pass
''')
    (tmp_path / "client.js").write_text(f'''const key = 'rk_live_' +
  '{js}';
const masked = "sk_live_" + "xxxxxxxxxxxxxxxxxxxxxxxx";
''')
    (tmp_path / "deploy.php").write_text(f'<?php\n$token = "glpat-" . "{php}";\n')
    found = findings(tmp_path)
    assert {py_plus, py_implicit, js, php} <= set(found), found
    assert len(found) == 4, found


def test_a_key_passed_positionally_to_a_provider_client(tmp_path):
    stripe_key, algolia_key, shodan_key, twilio_token = token(32), token(32, HEX), token(32), token(32, HEX)
    (tmp_path / "server.js").write_text(f'''const stripe = require('stripe')('{stripe_key}');
const search = algoliasearch('Q7ZK2M4XPL', '{algolia_key}');
const twilioClient = twilio('AC{token(32, HEX)}', '{twilio_token}');
const fromEnv = require('stripe')(process.env.STRIPE_SECRET_KEY);
const other = algoliasearch(APP_ID, ADMIN_KEY);
''')
    (tmp_path / "recon.py").write_text(f'''import os
import shodan

api = shodan.Shodan("{shodan_key}")
env_api = shodan.Shodan(os.environ["SHODAN_API_KEY"])
''')
    found = findings(tmp_path)
    assert {stripe_key, algolia_key, shodan_key, twilio_token} <= set(found), found


def test_a_base64_json_cursor_is_not_a_secret(tmp_path):
    def cursor(obj) -> str:
        return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()

    page = {"data": [{"id": between(1, 10**6)}],
            "next_page_token": cursor({"offset": between(100, 900), "limit": 50, "sort": "created_at"}),
            "continuation_token": cursor({"last_id": between(1, 10**6), "dir": "next"})}
    (tmp_path / "page.json").write_text(json.dumps(page, indent=2))
    (tmp_path / "client.py").write_text(f'next_token = "{cursor({"shard": 3, "after": token(12)})}"\n'
                                        f'resume_cursor = "{cursor([between(1, 10**6), "asc"])}"\n')
    real = token(40)
    (tmp_path / "config.py").write_text(f'API_TOKEN = "{real}"\n')
    assert set(findings(tmp_path, "low")) == {real}


def test_templates_are_not_secrets(tmp_path):
    (tmp_path / "supervisord.conf").write_text(
        "[program:api]\ncommand=/srv/api/run\nenvironment=DB_PASSWORD=%(ENV_DB_PASSWORD)s,API_KEY=\"%(ENV_API_KEY)s\"\n"
        "password = %(ENV_SUPERVISOR_PASSWORD)s\n")
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  api:\n    environment:\n      API_KEY: ${API_KEY:?API_KEY must be set}\n"
        "      DB_PASSWORD: \"${DB_PASSWORD:?set DB_PASSWORD in .env}\"\n")
    assert findings(tmp_path, "low") == {}


def test_the_jwt_io_sample_token_is_not_a_finding(tmp_path):
    """The token jwt.io's debugger shows (HS256, sub 1234567890, John Doe, iat 1516239022), built here from
    its published parts: documented, so public; a token of the same shape with other claims is reported."""
    def seg(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

    head = seg({"alg": "HS256", "typ": "JWT"})
    sample = f"{head}.{seg({'sub': '1234567890', 'name': 'John Doe', 'iat': 1516239022})}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    ours = f"{head}.{seg({'sub': token(12), 'iat': between(1_700_000_000, 1_800_000_000)})}.{token(43, ALNUM + '-_')}"
    (tmp_path / "README.md").write_text(f"Try it:\n\n    curl -H 'Authorization: Bearer {sample}' localhost:8080/me\n")
    (tmp_path / "session.txt").write_text(f"Authorization: Bearer {ours}\n")
    found = findings(tmp_path, "low")
    assert sample not in found and ours in found, found


def test_grafana_service_account_token_checksum(tmp_path):
    good, bad = grafana_sa_token(), grafana_sa_token(valid=False)
    assert run_check("grafana-sa-checksum", good) is True and run_check("grafana-sa-checksum", bad) is False
    (tmp_path / "grafana.env").write_text(f"GRAFANA_TOKEN={good}\nGRAFANA_OLD_TOKEN={bad}\n")
    found = findings(tmp_path, "low")
    assert found[good] == "high" and found[bad] == "low", found


def test_gitlab_routable_token_checksum(tmp_path):
    good, bad, legacy = gitlab_routable_token(), gitlab_routable_token(valid=False), "glpat-" + token(20, ALNUM + "_-")
    assert run_check("gitlab-routable-checksum", good) is True
    assert run_check("gitlab-routable-checksum", bad) is False
    assert run_check("gitlab-routable-checksum", legacy) is None  # the 20-character form carries no checksum
    (tmp_path / ".gitlab-ci.yml").write_text(
        f"variables:\n  GITLAB_TOKEN: {good}\n  OLD_TOKEN: {bad}\n  LEGACY_TOKEN: {legacy}\n")
    found = findings(tmp_path, "low")
    assert found[good] == "high" and found[legacy] == "high" and found[bad] == "low", found


def test_a_uuid_under_a_secret_name_but_not_under_an_identifier_name(tmp_path):
    import uuid

    atlas, token_value = str(uuid.uuid4()), str(uuid.uuid4())
    quiet = [str(uuid.uuid4()) for _ in range(4)]
    (tmp_path / ".env").write_text(f"ATLAS_PRIVATE_KEY={atlas}\nAZURE_TENANT_ID={quiet[0]}\nREQUEST_TOKEN_ID={quiet[1]}\n"
                                   f"CLIENT_API_KEY={quiet[2]}\n")
    (tmp_path / "settings.yaml").write_text(f"ingest:\n  api_token: \"{token_value}\"\n  session_key: \"{quiet[3]}\"\n")
    found = findings(tmp_path)
    assert {atlas, token_value} <= set(found), found
    assert not set(quiet) & set(found), found


def test_a_uuid_key_in_an_api_key_header_or_under_a_clients_secret_name(tmp_path):
    """Exa and Postmark send UUID keys in an X-Api-Key style header, older Keycloak clients hold UUID secrets:
    the header name or the word secret says credential where client or app alone says identifier."""
    import uuid

    header, logged, keycloak, app = (str(uuid.uuid4()) for _ in range(4))
    quiet = [str(uuid.uuid4()) for _ in range(3)]
    (tmp_path / "capture.http").write_text(f"GET /v1/search HTTP/1.1\nHost: api.internal.local\nX-Api-Key: {header}\n"
                                           f"X-Request-Id: {quiet[0]}\n")
    (tmp_path / "client.log").write_text(
        f'2026-03-02T10:14:07Z DEBUG headers {{"x-request-id": "{quiet[1]}", "x-api-key": "{logged}"}}\n')
    (tmp_path / "realm.yaml").write_text(f"keycloak:\n  client_id: {quiet[2]}\n  client_secret: {keycloak}\n"
                                         f"app_secret: {app}\n")
    found = findings(tmp_path)
    assert {header, logged, keycloak, app} <= set(found), found
    assert not set(quiet) & set(found), found


def test_a_passphrase_in_a_log_line_with_no_known_format(tmp_path):
    """Without a format to parse, the password rule itself takes quoted words; messages stay quiet."""
    phrase = passphrase(4)
    (tmp_path / "provision.log").write_text(
        f"2026-06-01T10:00:00Z INFO creating user svc-backup\n"
        f"2026-06-01T10:00:01Z DEBUG password = '{phrase}' (from the bootstrap script)\n"
        f"2026-06-01T10:00:02Z WARN password = 'must be rotated within ninety days'\n")
    assert set(findings(tmp_path)) == {phrase}


def test_a_secret_compiled_into_an_android_build(tmp_path):
    maps, pay = token(32, HEX), token(40, ALNUM + "_-")
    (tmp_path / "build.gradle").write_text(f"""android {{
    defaultConfig {{
        applicationId "org.example.courier"
        buildConfigField 'String', 'MAPS_API_KEY', '"{maps}"'
        buildConfigField "String", "PAYMENTS_TOKEN", "\\"{pay}\\""
        buildConfigField 'String', 'BASE_URL', '"https://api.example.org/v2"'
        buildConfigField 'String', 'SEARCH_KEY', "\\"${{System.getenv('SEARCH_KEY')}}\\""
    }}
}}
""")
    assert set(findings(tmp_path)) == {maps, pay}


def test_hex_keys_of_low_entropy_under_secret_names(tmp_path):
    """Random 32- and 40-character hex keys whose entropy falls below 3.5 bits (one in five 32-hex keys)."""
    from scanner.engine.entropy import shannon_entropy

    def low_hex(n: int) -> str:
        while True:
            v = token(n, HEX)
            if 3.0 <= shannon_entropy(v) < 3.45:
                return v

    values = [low_hex(32), low_hex(32), low_hex(40), low_hex(32)]
    (tmp_path / ".env").write_text(f"INGEST_API_KEY={values[0]}\nPARTNER_KEY={values[1]}\n")
    (tmp_path / "settings.py").write_text(f'WEBHOOK_SECRET = "{values[2]}"\nCOMMIT_SHA = "{token(40, HEX)}"\n')
    (tmp_path / "worker.log").write_text(f"2026-06-01T10:00:00Z DEBUG loaded api_key={values[3]} region=eu-west-1\n")
    assert set(findings(tmp_path)) == set(values)


def test_password_hashes_in_a_database_dump(tmp_path):
    """A dump's users table holds the hashes of WordPress (phpass $P$), phpBB ($H$), Drupal 7 ($S$), Django
    (pbkdf2_sha256$) and Argon2 users as well as bcrypt's: each is a password to reset, found at high."""
    crypt64 = "./" + string.ascii_letters + string.digits
    b64 = string.ascii_letters + string.digits + "+/"
    hashes = ["$P$B" + token(30, crypt64), "$H$9" + token(30, crypt64), "$S$D" + token(51, crypt64),
              f"pbkdf2_sha256$870000${token(22)}${token(43, b64)}=",
              f"$argon2id$v=19$m=65536,t=3,p=4${token(22, b64)}${token(43, b64)}",
              f"$2y$10${token(53, crypt64)}"]
    rows = ",\n".join(f"({i},'user{i}','{h}','user{i}@example.org')" for i, h in enumerate(hashes))
    (tmp_path / "dump.sql").write_text(f"-- MySQL dump 10.13\nINSERT INTO `users` VALUES\n{rows};\n")
    found = findings(tmp_path)
    assert {h: found.get(h) for h in hashes} == {h: "high" for h in hashes}
