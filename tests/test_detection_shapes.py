"""Generic secrets in the shapes real files hold them (issue 20): notebooks, JSON-lines transcripts,
Kubernetes env lists, Compose environment lists, command-line flags, `*_key` and salt names, values
with punctuation, comparisons; each file scanned from disk by `scan_paths`, with its look-alikes
(references, placeholders, identifiers) in the same files, which must stay quiet.

Every secret is generated per run, so no test string can be tuned to."""
from __future__ import annotations

import json
import secrets as rnd
import string
import uuid
from pathlib import Path

import pytest

from scanner import ScanOptions, scan_paths
from scanner.engine.filters import placeholder_reason

ALNUM = string.ascii_letters + string.digits


def token(n: int = 32) -> str:
    """A random alphanumeric value with at least one digit and both cases (the generic rules' shape)."""
    body = "".join(rnd.choice(ALNUM) for _ in range(n - 3))
    return body + rnd.choice(string.digits) + rnd.choice(string.ascii_uppercase) + rnd.choice(string.ascii_lowercase)


def salt(n: int = 48) -> str:
    """A WordPress-style salt: letters, digits and punctuation, no quotes, backslashes or spaces."""
    alphabet = ALNUM + "!#%&()*+,-.:;<=>?@[]^_{|}~"
    value = "".join(rnd.choice(alphabet) for _ in range(n - 2))
    return "!" + value + "|"


def found(folder: Path) -> set[str]:
    result = scan_paths([str(folder)], ScanOptions(jobs=1, show_secrets=True))
    return {f.secret for f in result.findings if f.secret}


@pytest.fixture
def planted(tmp_path):
    """(folder, secrets that must be found, values that must not)."""
    want: list[str] = []
    quiet: list[str] = []

    def plant(value: str) -> str:
        want.append(value)
        return value

    def decoy(value: str) -> str:
        quiet.append(value)
        return value

    nb_token, nb_password = plant(token()), plant("Pw-" + token(14))
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Load the data\n"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["import os\n", f'os.environ["SERVICE_TOKEN"] = "{nb_token}"\n',
                        f'db_password = "{nb_password}"\n',
                        f'cache_key = "{decoy(token())}"\n',
                        'api_key = os.environ["API_KEY"]\n']},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (tmp_path / "analysis.ipynb").write_text(json.dumps(notebook, indent=1))

    transcript = [
        {"role": "user", "content": "deploy the service"},
        {"role": "assistant", "content": "Running the deploy script.",
         "tool_calls": [{"name": "bash", "arguments": json.dumps({"command": "./deploy.sh"})}]},
        {"role": "tool", "content": f"export DEPLOY_TOKEN={plant(token())}\nexport REGION=eu-west-1\nok"},
        {"role": "tool", "content": f"config: {{\"signing_key\": \"{plant(token(40))}\", \"page_token\": \"{decoy(token())}\"}}"},
    ]
    (tmp_path / "session.jsonl").write_text("".join(json.dumps(line) + "\n" for line in transcript))

    (tmp_path / "deployment.yaml").write_text(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.internal/api:1.4.2
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              value: "{plant(token(18))}"
            - name: STRIPE_WEBHOOK_SECRET
              valueFrom:
                secretKeyRef: {{name: stripe, key: webhook-secret}}
            - name: TOKEN_TTL
              value: "3600"
            - name: API_TOKEN_FILE
              value: /run/secrets/api-token
""")

    (tmp_path / "docker-compose.yml").write_text(f"""services:
  db:
    image: postgres:16
    environment:
      - "POSTGRES_PASSWORD={plant(token(20))}"
      - POSTGRES_USER=app
  worker:
    image: worker:latest
    environment:
      - "QUEUE_API_TOKEN={plant(token())}"
      - "QUEUE_API_TOKEN_FILE=/run/secrets/queue"
      - "ENCRYPTION_KEY=${{ENCRYPTION_KEY:?set it}}"
""")

    mysql_pw, docker_pw, literal_pw = plant(token(16)), plant(token(20)), plant(token(18))
    (tmp_path / "ops.sh").write_text(f"""#!/usr/bin/env bash
set -euo pipefail
mysqldump -u backup -p{mysql_pw} --single-transaction appdb > dump.sql
docker login -u ci-bot -p {docker_pw} registry.internal
docker login -u ci-bot -p "$REGISTRY_PASSWORD" registry.internal
docker run -p 8080:80 -d nginx
mkdir -p /var/backups/app
kubectl create secret generic db --from-literal=DB_PASSWORD={literal_pw} --from-literal=DB_HOST=db.internal
ingestctl push --api-key {plant(token())} ./dist
ingestctl push --api-key "$INGEST_API_KEY" ./dist
ingestctl push --api-key-id {decoy("3f1e9b2c-7a4d-4e1f-9c2b-5d6e7f8a9b0c")} ./dist
""")

    wp_auth, wp_salt = plant(salt()), plant(salt())
    (tmp_path / "wp-config.php").write_text(f"""<?php
define( 'DB_NAME', 'wordpress' );
define( 'AUTH_KEY',         '{wp_auth}' );
define( 'SECURE_AUTH_SALT', '{wp_salt}' );
define( 'LOGGED_IN_SALT',   'put your unique phrase here' );
""")

    check = plant("t9" + salt(20))
    (tmp_path / "auth.js").write_text(f"""export function allowed(req) {{
  if ("{check}" === req.headers.apiToken) {{
    return true;
  }}
  return req.user && req.user.role === "admin";
}}
""")
    return tmp_path, want, quiet


def test_generic_secrets_are_found_in_the_shapes_real_files_hold_them(planted):
    folder, want, quiet = planted
    got = found(folder)
    assert [w for w in want if w not in got] == []
    assert [q for q in quiet if q in got] == []


@pytest.mark.parametrize("value", [
    "${DB_PASSWORD}", "${DB_PASSWORD:-changeme}", "${ENCRYPTION_KEY:?set it}", '${cfg["token"]}', "${getToken(a, b)}",
    "&lt;YOUR_PASSWORD&gt;", "ENC[AES256_GCM,data:Zm9vYmFy,iv:YmFy,tag:Zm9v,type:str]", "sk-proj-Ab12...9fXz",
    "ghp_Ab3\u2026yZ9",
])
def test_references_and_escaped_placeholders_are_not_secrets(value):
    assert placeholder_reason(value) is not None


def test_interpolation_needs_balanced_brackets():
    # `${` inside a generated password is punctuation, not a reference, when what follows parses as no
    # expression in any template language.
    value = "k{" + rnd.choice("({[") + "a]z(b[" + token(12) + "}" + token(6)
    assert placeholder_reason("x${" + value[2:]) is None
    assert placeholder_reason("x${" + token(8) + "}") is not None


def test_defaults_of_environment_lookups_are_values(tmp_path):
    # os.getenv("X", "...") and ENV.fetch("X", "..."): the first argument names the variable, the
    # second is a value that ships with the code.
    py, rb = token(40), token(40)
    (tmp_path / "settings.py").write_text(
        f'import os\nAPI_KEY = os.getenv("API_KEY")\nENCRYPTION_KEY = os.getenv("ENCRYPTION_KEY", "{py}")\n')
    (tmp_path / "config.rb").write_text(
        f'SECRET_KEY_BASE = ENV.fetch("SECRET_KEY_BASE", "{rb}")\nAPI_TOKEN = ENV.fetch("API_TOKEN")\n')
    got = found(tmp_path)
    assert {py, rb} <= got
    assert not {"API_KEY", "API_TOKEN"} & got


def test_identifiers_sops_ciphertext_and_documented_samples_stay_below_the_default(tmp_path):
    tenant = str(uuid.UUID(int=rnd.randbits(128), version=4))
    sops = "ENC[AES256_GCM,data:" + token(24) + ",iv:" + token(22) + "=,tag:" + token(22) + "==,type:str]"
    jwt_io = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0Ijox"
              "NTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
    (tmp_path / "app.env").write_text(f"AZURE_TENANT_ID={tenant}\nAZURE_CLIENT_ID={tenant}\n")
    (tmp_path / "secrets.enc.yaml").write_text(f"db_password: {sops}\napi_token: {sops}\n")
    (tmp_path / "requests.http").write_text(f"GET /v1/me HTTP/1.1\nAuthorization: Bearer {jwt_io}\n")
    # SQL Server's container quickstarts' sample SA passwords (rules/_documented-examples.yaml)
    (tmp_path / "docker-compose.yml").write_text(
        'services:\n  db:\n    environment:\n      MSSQL_SA_PASSWORD: "yourStrong(!)Password"\n'
        '    healthcheck:\n      test: sqlcmd -S localhost -U sa -P "YourStrong@Passw0rd" -Q "SELECT 1"\n')
    assert found(tmp_path) == set()


def test_typescript_annotations_and_rails_secret_key_base(tmp_path):
    ts, salt_value = token(), token(40)
    (tmp_path / "config.ts").write_text(
        f'export const signingKey: string = "{ts}";\nconst sessionSalt: string = "{salt_value}";\n'
        'const apiKey: string = process.env.API_KEY ?? "";\n')
    assert found(tmp_path) == {ts, salt_value}


def test_any_name_ending_in_key_holds_a_key_unless_the_key_is_not_a_secret(tmp_path):
    vendor = "".join(rnd.choice(string.ascii_lowercase + string.digits) for _ in range(31)) + "7"
    partner = token(36)
    (tmp_path / "integrations.py").write_text(f'''import boto3
from cryptography.hazmat.primitives.asymmetric import x25519

ATERA_KEY = "{vendor}"
partnerKey = "{partner}"
partition_key = "{token(20)}"
object_key = "uploads/2024/07/{token(12)}.png"
routing_key = "orders.created.v2.eu1"
RECAPTCHA_SITE_KEY = "{token(40)}"
STRIPE_PUBLISHABLE_KEY = "pk_live_{token(24)}"


def load(x25519_key: x25519.X25519PrivateKey, mlkem_key: "mlkem.MLKEM768PrivateKey") -> None:
    pass
''')
    assert found(tmp_path) == {vendor, partner}


def test_a_provider_named_on_one_log_line_and_its_key_on_the_next(tmp_path):
    """Service logs name the provider, then print the key on the next line (TruffleHog's detectors take a
    keyword up to 40 characters before the key, across the line break): the provider rules read that shape
    too, with the key's exact format; a value of the wrong length there is not the provider's key."""
    abstract = "".join(rnd.choice("0123456789abcdef") for _ in range(31)) + "7"
    abyssale = token(40)
    wrong = "".join(rnd.choice("0123456789abcdef") for _ in range(33))
    (tmp_path / "worker.log").write_text(
        "2025-03-02 09:14:55,120 INFO  [enrich] Sending request to the abstractapi API (geolocation)\n"
        f"2025-03-02 09:14:55,121 DEBUG [enrich] Using Key={abstract}\n"
        "2025-03-02 09:14:55,380 INFO  [enrich] Response received: 200 OK\n"
        "2025-03-02 09:15:02,004 INFO  [render] abyssale template render queued\n"
        f"2025-03-02 09:15:02,005 DEBUG [render] request headers x-api-key: {abyssale}\n"
        "2025-03-02 09:16:40,310 INFO  [enrich] Sending request to the abstractapi API (geolocation)\n"
        f"2025-03-02 09:16:40,311 DEBUG [enrich] Using Key={wrong}\n")
    result = scan_paths([str(tmp_path)], ScanOptions(jobs=1, show_secrets=True))
    by_secret = {f.secret: f for f in result.findings}
    assert set(by_secret) == {abstract, abyssale}
    assert {by_secret[abstract].provider, by_secret[abyssale].provider} == {"abstractapi", "abyssale"}


def test_a_key_on_the_providers_line_is_not_passed_over_for_one_on_the_next(tmp_path):
    """The next-line shape starts a character before the provider's name (a line start or a separator); the
    same-line shapes may start there too, so where both match, the key on the provider's own line is taken
    first and the next line's key is found after it."""
    first, second = ("".join(rnd.choice("0123456789abcdef") for _ in range(31)) + "7" for _ in range(2))
    (tmp_path / "settings.yaml").write_text(f"enrich:\n  ABSTRACT_API_KEY: {first}\n  abstract_api_secret: {second}\n")
    result = scan_paths([str(tmp_path)], ScanOptions(jobs=1, show_secrets=True))
    assert {(f.secret, f.rule_id) for f in result.findings} == {(first, "abstractapi-api-key"),
                                                               (second, "abstractapi-api-key")}


def test_fallbacks_of_environment_lookups(tmp_path):
    """The value a program falls back to when a variable is unset ships with the code: JavaScript's || and ??,
    Python's or, Ruby's ENV.fetch block, Kotlin's ?:, C#'s ??, Rust's unwrap_or, a shell's ${X:-...}; a
    fallback that is empty, a word or a port, or a ${X:?message}, is not a secret."""
    js, py, rb, kt, cs, rs, sh, compose = (token() for _ in range(8))
    (tmp_path / "config.js").write_text(
        f'const apiKey = process.env.PAYMENTS_API_KEY || "{js}";\n'
        'const mode = process.env.NODE_ENV || "development";\nconst key = process.env.API_KEY ?? "";\n')
    (tmp_path / "settings.py").write_text(
        f'import os\nSECRET = os.environ.get("APP_SECRET") or "{py}"\nDEBUG = os.environ.get("DEBUG") or "0"\n')
    (tmp_path / "billing.rb").write_text(f'BILLING_KEY = ENV.fetch("BILLING_KEY") {{ "{rb}" }}\n')
    (tmp_path / "Client.kt").write_text(f'val token = System.getenv("SVC_TOKEN") ?: "{kt}"\n')
    (tmp_path / "Startup.cs").write_text(f'var secret = Environment.GetEnvironmentVariable("APP_SECRET") ?? "{cs}";\n')
    (tmp_path / "main.rs").write_text(f'let key = env::var("API_KEY").unwrap_or("{rs}".to_string());\n')
    (tmp_path / "run.sh").write_text(f'#!/bin/sh\nAPI_TOKEN="${{API_TOKEN:-{sh}}}"\n'
                                     'DB_URL="${DB_URL:?DB_URL must be set}"\nPORT="${PORT:-8080}"\n')
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  api:\n    environment:\n      DB_PASSWORD: ${{DB_PASSWORD:-{compose}}}\n"
        "      ADMIN_PASSWORD: ${ADMIN_PASSWORD:-changeme}\n")
    assert found(tmp_path) == {js, py, rb, kt, cs, rs, sh, compose}


def test_values_padded_inside_their_quotes(tmp_path):
    """Spaces typed inside the quotes around a secret: the secret is what they surround; a padded message
    is still a message."""
    env, py, yml, ini = token(20), token(24), token(32), token(30)
    (tmp_path / ".env").write_text(f'SERVICE_PASSWORD="  {env}  "\n')
    (tmp_path / "settings.py").write_text(f'DB_PASSWORD = " {py} "\nHELP = "  please set the password  "\n')
    (tmp_path / "app.yaml").write_text(f'billing:\n  api_key: "  {yml}"\n')
    (tmp_path / "notes.txt").write_text(f"partner_key = ' {ini} '\n")
    assert found(tmp_path) == {env, py, yml, ini}


def test_authorization_headers_of_the_token_scheme_and_in_format_strings(tmp_path):
    """`Authorization: Token <key>` (Django REST Framework and the APIs built on it) is a bearer credential by
    another name; a header built in a Python f-string holds its literal token all the same."""
    drf, bearer = "".join(rnd.choice("0123456789abcdef") for _ in range(39)) + "7", token(32)
    (tmp_path / "capture.http").write_text(f"GET /api/dcim/devices/ HTTP/1.1\nAuthorization: Token {drf}\n"
                                           "X-Trace: Token accounting enabled\n")
    (tmp_path / "client.py").write_text(f'HEADERS = {{"Authorization": f"Bearer {bearer}"}}\n'
                                        'OTHER = {"Authorization": f"Token {settings.API_TOKEN}"}\n')
    assert found(tmp_path) == {drf, bearer}


def test_secrets_of_languages_without_a_grammar(tmp_path):
    """PHP, Perl and PowerShell variables (`$apiKey`, `$this->apiSecret`, `my $api_token`) and C macros
    (`#define WIFI_PASSWORD "..."`) are read by the rules alone: a `$`, `@` or `->` before the name is where the
    name starts, and a preprocessor directive is no comment. Reads of request data and empty values stay quiet."""
    php, member, perl, ps, wifi, key = token(32), token(32), token(32), token(32), token(14), token(32)
    (tmp_path / "config.php").write_text(
        f'<?php\n$apiKey = "{php}";\n$password = $_POST["password"];\n$token = getenv("API_TOKEN");\n'
        f'class Client {{\n  function __construct() {{ $this->apiSecret = "{member}"; }}\n}}\n')
    (tmp_path / "deploy.pl").write_text(f'my $api_token = "{perl}";\nmy $secret = "";\n')
    (tmp_path / "deploy.ps1").write_text(f'$ApiToken = "{ps}"\n$Password = Read-Host -AsSecureString\n')
    (tmp_path / "secrets.h").write_text(f'#define WIFI_SSID "workshop"\n#define WIFI_PASSWORD "{wifi}"\n'
                                        f'#define API_KEY "{key}"\n#define API_KEY_HEADER "X-Api-Key"\n'
                                        '#define KEY_FILE "/etc/ssl/private/key2.pem"\n')
    assert found(tmp_path) == {php, member, perl, ps, wifi, key}


def test_keys_in_dotnet_app_settings_rust_constants_objc_literals_and_spring_defaults(tmp_path):
    """`<add key="PaymentApiKey" value="...">` (.NET), `const API_KEY: &str = "..."` (Rust), `@"..."`
    (Objective-C), `@Value("${payments.api.key:...}")` (Spring's placeholder default); a site key, a lifetime
    and an empty default stay quiet."""
    net, rust, objc, spring = token(32), token(32), token(32), token(32)
    (tmp_path / "App.config").write_text(
        f'<configuration>\n  <appSettings>\n    <add key="PaymentApiKey" value="{net}" />\n'
        f'    <add key="RecaptchaSiteKey" value="{token(40)}" />\n    <add key="TokenLifetimeMinutes" value="60" />\n'
        '  </appSettings>\n</configuration>\n')
    (tmp_path / "main.rs").write_text(f'const API_KEY: &str = "{rust}";\nconst BASE_URL: &str = "https://api.example.org";\n')
    (tmp_path / "Keys.m").write_text(f'NSString *const kApiSecret = @"{objc}";\n')
    (tmp_path / "Payments.java").write_text(f'@Value("${{payments.api.key:{spring}}}")\nprivate String apiKey;\n'
                                            '@Value("${payments.webhook.secret:}")\nprivate String webhookSecret;\n')
    assert found(tmp_path) == {net, rust, objc, spring}


def test_name_value_lists_of_har_files_and_postman_environments(tmp_path):
    """A HAR file's request headers and a Postman environment's variables are lists of name (or key) and
    value fields, on one line or on two; a header or variable that is no secret, or a {{variable}}, stays quiet."""
    header, variable = token(32), token(40)
    (tmp_path / "session.har").write_text(json.dumps({"log": {"entries": [{"request": {
        "method": "GET", "url": "https://api.example.org/v1/orders",
        "headers": [{"name": "X-Request-Id", "value": token(32)}, {"name": "X-Api-Key", "value": header}]}}]}}))
    (tmp_path / "prod.postman_environment.json").write_text(json.dumps({"name": "prod", "values": [
        {"key": "baseUrl", "value": "https://api.example.org", "enabled": True},
        {"key": "paymentsApiKey", "value": variable, "type": "secret", "enabled": True},
        {"key": "apiToken", "value": "{{apiToken}}", "enabled": True}]}, indent=2))
    assert found(tmp_path) == {header, variable}


def test_passwords_passed_with_their_user_to_a_login_call(tmp_path):
    """smtplib's, imaplib's and ftplib's login(user, password), requests' auth=(user, password) and
    HTTPBasicAuth, JavaMail's PasswordAuthentication, LDAP's simple_bind_s(dn, password): the second literal
    is the password; a variable, an empty string or anonymous FTP is none."""
    smtp, ftp, http, basic, java, ldap = (token(16) for _ in range(6))
    (tmp_path / "report.py").write_text(
        'import ftplib, smtplib, requests\nfrom requests.auth import HTTPBasicAuth\n'
        f'server = smtplib.SMTP("smtp.acme-mail.io", 587)\nserver.login("reports@acme-mail.io", "{smtp}")\n'
        f'ftplib.FTP("ftp.acme-mail.io").login("deploy", "{ftp}")\nftplib.FTP("mirror").login("anonymous", "anonymous@")\n'
        f'requests.get(URL, auth=("svc-reports", "{http}"))\nrequests.get(URL, auth=HTTPBasicAuth("svc", "{basic}"))\n'
        'server.login(USER, os.environ["SMTP_PASSWORD"])\nrequests.get(URL, auth=("svc", ""))\n')
    (tmp_path / "Mailer.java").write_text(
        f'return new PasswordAuthentication("noreply@acme-mail.io", "{java}");\n')
    (tmp_path / "directory.py").write_text(f"conn.simple_bind_s('cn=admin,dc=acme,dc=io', '{ldap}')\n")
    assert found(tmp_path) == {smtp, ftp, http, basic, java, ldap}


def test_a_bare_token_under_an_authorization_or_bearer_name(tmp_path):
    """APIs that take the key itself as the Authorization header, and configs that name it bearer: the value
    is the credential; an authorization URL or scheme name is not."""
    header, bearer = token(32), token(40)
    (tmp_path / "client.py").write_text(f'HEADERS = {{"Authorization": "{header}", "Accept": "application/json"}}\n')
    (tmp_path / "agent.yaml").write_text(f"tools:\n  - name: orders\n    auth:\n      bearer: {bearer}\n"
                                         "oauth:\n  authorization_url: https://auth.acme.io/oauth2/authorize\n"
                                         "  authorization_scheme: Bearer\n")
    assert found(tmp_path) == {header, bearer}


def test_defaults_of_terraform_variables_and_cloudformation_parameters(tmp_path):
    """The secret's name is a block label or a parameter's key, its value a Default some lines below:
    sensitive = true and NoEcho hide it from output, not from the repository. A parameter that names where
    the secret lives (an ARN, a secret's name) or a length is no secret."""
    tf, cfn = token(20), token(24)
    (tmp_path / "variables.tf").write_text(
        f'variable "db_password" {{\n  type      = string\n  default   = "{tf}"\n  sensitive = true\n}}\n\n'
        'variable "api_key_secret_name" {\n  default = "prod/api-key"\n}\n\n'
        'variable "db_password_length" {\n  default = 24\n}\n')
    (tmp_path / "stack.yaml").write_text(
        f"Parameters:\n  DBPassword:\n    Type: String\n    NoEcho: true\n    Default: {cfn}\n"
        "  DBPasswordSecretArn:\n    Type: String\n    Default: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db\n")
    assert found(tmp_path) == {tf, cfn}
