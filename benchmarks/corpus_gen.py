#!/usr/bin/env python3
"""A generated corpus of realistic files with planted secrets and decoys, labelled by line.

    python benchmarks/corpus_gen.py OUT_DIR [--seed 1] [--files-per-class 10]

Every planted secret is a random value in a format its provider documents (prefixes, lengths,
alphabets, GitHub's and npm's CRC32 checksums, real PEM keys, signed JWTs); every decoy is something
a scanner should leave alone: placeholders, references to the environment or a secret manager,
hashes and digests, UUIDs under identifier names, public keys, redacted or truncated values, and
example keys published in providers' documentation. Files are grouped in classes (the shapes of
issue 20): generic assignments in code, config files, notebooks, JSON-lines agent transcripts,
HTTP headers, command-line flags, connection URIs, private keys, provider tokens.

`generate(root, seed, per_class)` writes the files and returns the labels: for each planted secret,
the file, the lines it spans and its class. Any line a tool flags outside those spans is a false
positive (corpus_peers.py --generated scores the tools so).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import random
import string
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
URLSAFE = ALNUM + "-_"

CLASSES = ("code", "config", "notebook", "transcript", "http-header", "cli-flag", "uri", "private-key", "provider",
           "code-shapes")
# Words of generated passphrases (diceware-style: a few common words and a number).
WORDS = ("amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harbor", "indigo", "juniper", "kestrel",
         "lantern", "meadow", "nectar", "obsidian", "pylon", "quartz", "raven", "saffron", "tundra", "umber")

# Published as examples in providers' documentation: public, so never findings.
DOC_EXAMPLES = {
    "aws_id": "AKIAIOSFODNN7EXAMPLE",  # AWS IAM user guide
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS IAM user guide
    "jwt": ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5"
            "MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"),  # jwt.io's debugger sample
    "azurite": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",  # Azurite
}


@dataclass(frozen=True)
class Label:
    path: str  # relative to the corpus root
    first_line: int
    last_line: int
    cls: str
    what: str


class Gen:
    """Random values in documented formats, from one seeded generator."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def mixed(self, n: int) -> str:
        """Alphanumeric with at least one digit, one upper and one lower case letter."""
        while True:
            v = self.s(ALNUM, n)
            if any(c.isdigit() for c in v) and any(c.isupper() for c in v) and any(c.islower() for c in v):
                return v

    def password(self) -> str:
        return self.mixed(self.r.randint(10, 14)) + self.r.choice("!#%*@^") + self.s(ALNUM, 3)

    def hexs(self, n: int) -> str:
        return self.s(HEX, n)

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    # --- provider formats ---------------------------------------------------------------------------
    def crc_token(self, prefix: str) -> str:
        """GitHub classic tokens and npm tokens: 30 base62 characters and their CRC32 in base62 (6)."""
        body = self.s(ALNUM, 30)
        n, out = binascii.crc32(body.encode()), ""
        while n:
            n, rem = divmod(n, 62)
            out = B62[rem] + out
        return prefix + body + out.rjust(6, "0")

    def provider_token(self) -> tuple[str, str, str]:
        """(provider, variable name, token)."""
        kind = self.r.choice(["github", "github-fine", "gitlab", "slack", "stripe", "openai", "anthropic", "google",
                              "sendgrid", "twilio", "npm", "huggingface", "digitalocean", "shopify", "telegram",
                              "newrelic", "linear", "vault", "pypi", "datadog"])
        t = {
            "github": lambda: self.crc_token("ghp_"),
            "github-fine": lambda: "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59),
            "gitlab": lambda: "glpat-" + self.s(URLSAFE, 20),
            "slack": lambda: f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(ALNUM, 24)}",
            "stripe": lambda: "sk_live_" + self.s(ALNUM, 99),
            "openai": lambda: "sk-proj-" + self.s(URLSAFE, 74) + "T3BlbkFJ" + self.s(URLSAFE, 74),
            "anthropic": lambda: "sk-ant-api03-" + self.s(URLSAFE, 93) + "AA",
            "google": lambda: "AIza" + self.s(URLSAFE, 35),
            "sendgrid": lambda: "SG." + self.s(URLSAFE, 22) + "." + self.s(URLSAFE, 43),
            "twilio": lambda: "SK" + self.hexs(32),
            "npm": lambda: self.crc_token("npm_"),
            "huggingface": lambda: "hf_" + self.s(string.ascii_letters, 34),
            "digitalocean": lambda: "dop_v1_" + self.hexs(64),
            "shopify": lambda: "shpat_" + self.hexs(32),
            "telegram": lambda: f"{self.r.randint(10**8, 10**10 - 1)}:AA{self.s(URLSAFE, 33)}",
            "newrelic": lambda: "NRAK-" + self.s(string.ascii_uppercase + string.digits, 27),
            "linear": lambda: "lin_api_" + self.s(ALNUM, 40),
            "vault": lambda: "hvs." + self.s(URLSAFE, 90),
            "pypi": lambda: "pypi-AgEIcHlwaS5vcmc" + self.s(URLSAFE, 120),
            "datadog": lambda: self.hexs(32),
        }[kind]()
        name = {"github": "GITHUB_TOKEN", "github-fine": "GH_PAT", "gitlab": "GITLAB_TOKEN", "slack": "SLACK_BOT_TOKEN",
                "stripe": "STRIPE_SECRET_KEY", "openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
                "google": "GOOGLE_MAPS_KEY", "sendgrid": "SENDGRID_API_KEY", "twilio": "TWILIO_API_KEY",
                "npm": "NPM_TOKEN", "huggingface": "HF_TOKEN", "digitalocean": "DIGITALOCEAN_TOKEN",
                "shopify": "SHOPIFY_ACCESS_TOKEN", "telegram": "TELEGRAM_BOT_TOKEN", "newrelic": "NEW_RELIC_API_KEY",
                "linear": "LINEAR_API_KEY", "vault": "VAULT_TOKEN", "pypi": "PYPI_TOKEN", "datadog": "DD_API_KEY"}[kind]
        return kind, name, t

    def aws_pair(self) -> tuple[str, str]:
        return "AKIA" + self.s(B32, 16), self.s(ALNUM + "+/", 40)

    def jwt(self) -> str:
        def enc(obj) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()
        head = enc({"alg": "HS256", "typ": "JWT"})
        body = enc({"sub": str(uuid.UUID(int=self.r.getrandbits(128))), "iat": self.r.randint(1.6e9, 1.8e9),
                    "scope": self.r.choice(["read write", "admin", "deploy"])})
        sig = hmac.new(self.r.randbytes(32), f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    # --- decoys ---------------------------------------------------------------------------------------
    def placeholder(self) -> str:
        return self.r.choice(["your_api_key_here", "<YOUR_API_KEY>", "${API_KEY}", "xxxxxxxxxxxxxxxxxxxxxxxx",
                              "REPLACE_ME", "changeme-in-production", "{{ .Values.apiKey }}", "<token>", "TODO",
                              "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                              "%(ENV_API_KEY)s", "${API_KEY:?set the API key}", "ENC[AES256_GCM,data:" + self.b64(24) + ",type:str]",
                              "sk-...a1b2", "********"])


def _line_of(text: str, needle: str) -> tuple[int, int]:
    at = text.index(needle)
    first = text.count("\n", 0, at) + 1
    return first, first + needle.count("\n")


class Writer:
    def __init__(self, root: Path):
        self.root = root
        self.labels: list[Label] = []

    def write(self, rel: str, text: str, cls: str, planted: list[tuple[str, str]]) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for value, what in planted:
            first, last = _line_of(text, value)
            self.labels.append(Label(rel, first, last, cls, what))


def _private_key(g: Gen) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    kind = g.r.choice(["ec", "ed25519-openssh", "ec-pkcs8"])
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption()).decode()
    if kind == "ec-pkcs8":
        key = ec.generate_private_key(ec.SECP384R1())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    ed = ed25519.Ed25519PrivateKey.generate()
    return ed.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                            serialization.NoEncryption()).decode()


def _public_key() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pub = ed25519.Ed25519PrivateKey.generate().public_key()
    ssh = pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return ssh, pem


# --- one generator per class: (relative path, text, planted [(value, what)]) ----------------------------

def gen_code(g: Gen, i: int):
    lang = g.r.choice(["py", "js", "ts", "go", "rb"])
    tok, key, pw, salt = g.mixed(32), g.b64(32), g.password(), g.mixed(40)
    sign = g.hexs(64)
    deco_uuid, deco_hash, deco_ph = g.uuid(), g.hexs(64), g.placeholder()
    planted = [(tok, "generic token"), (pw, "password"), (sign, "signing key")]
    if lang == "py":
        text = f'''import os
import requests

API_BASE = "https://api.internal.example.net/v2"
SERVICE_TOKEN = "{tok}"
REQUEST_ID = "{deco_uuid}"
ARTIFACT_SHA256 = "{deco_hash}"
api_key = os.environ["API_KEY"]
fallback_key = os.getenv("FALLBACK_KEY", "{deco_ph}")
SIGNING_KEY = "{sign}"
db_password = "{pw}"
ENCRYPTION_KEY = os.getenv("ENCRYPTION_KEY", "{key}")
cache_key = f"user:{{user_id}}:profile"


def fetch(path):
    return requests.get(API_BASE + path, headers={{"Authorization": "Bearer " + SERVICE_TOKEN}})
'''
        planted.append((key, "getenv default"))
    elif lang in ("js", "ts"):
        ann = ": string" if lang == "ts" else ""
        text = f'''const apiBase{ann} = "https://api.internal.example.net/v2";
const serviceToken{ann} = "{tok}";
const requestId{ann} = "{deco_uuid}";
const integrity{ann} = "sha512-{g.b64(64)}";
const apiKey = process.env.API_KEY;
export const signingKey{ann} = "{sign}";
const dbPassword{ann} = "{pw}";
const sessionSalt{ann} = "{salt}";
const placeholderToken{ann} = "{deco_ph}";
export function headers() {{
  return {{ Authorization: `Bearer ${{serviceToken}}` }};
}}
'''
        planted.append((salt, "salt"))
    elif lang == "go":
        text = f'''package config

import "os"

const apiBase = "https://api.internal.example.net/v2"

var (
	serviceToken = "{tok}"
	requestID    = "{deco_uuid}"
	checksum     = "{deco_hash}"
	signingKey   = "{sign}"
	dbPassword   = "{pw}"
	apiKey       = os.Getenv("API_KEY")
)
'''
    else:
        text = f'''module Config
  API_BASE = "https://api.internal.example.net/v2"
  SERVICE_TOKEN = "{tok}"
  REQUEST_ID = "{deco_uuid}"
  DIGEST = "{deco_hash}"
  SIGNING_KEY = "{sign}"
  DB_PASSWORD = "{pw}"
  API_KEY = ENV.fetch("API_KEY")
  SECRET_KEY_BASE = ENV.fetch("SECRET_KEY_BASE", "{key}")
end
'''
        planted.append((key, "ENV.fetch default"))
    return f"code/svc{i}/settings.{lang}", text, planted


def gen_config(g: Gen, i: int):
    kind = g.r.choice(["env", "k8s", "compose", "properties", "npmrc", "wp"])
    pw, tok = g.password(), g.mixed(32)
    if kind == "env":
        key = "base64:" + g.b64(32)
        text = f"""APP_NAME=billing
APP_ENV=production
APP_KEY={key}
APP_URL=https://billing.internal.example.net
DB_HOST=db.internal
DB_USERNAME=billing
DB_PASSWORD={pw}
REDIS_PASSWORD=
MAIL_PASSWORD={g.placeholder()}
WEBHOOK_SECRET={tok}
TENANT_ID={g.uuid()}
BUILD_SHA={g.hexs(40)}
"""
        return f"config/app{i}/.env", text, [(key, "Laravel APP_KEY"), (pw, "password"), (tok, "webhook secret")]
    if kind == "k8s":
        text = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-{i}
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.internal/api@sha256:{g.hexs(64)}
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              value: "{pw}"
            - name: API_TOKEN
              valueFrom:
                secretKeyRef: {{name: api, key: token}}
            - name: PAYMENTS_API_KEY
              value: {tok}
            - name: SUBSCRIPTION_ID
              value: "{g.uuid()}"
"""
        return f"config/k8s{i}/deployment.yaml", text, [(pw, "password"), (tok, "api key")]
    if kind == "compose":
        text = f"""services:
  db:
    image: postgres:16
    environment:
      - "POSTGRES_PASSWORD={pw}"
      - POSTGRES_USER=app
  worker:
    image: worker:latest
    environment:
      - "QUEUE_TOKEN={tok}"
      - "QUEUE_TOKEN_FILE=/run/secrets/queue"
      - "ENCRYPTION_KEY=${{ENCRYPTION_KEY:?set it}}"
"""
        return f"config/stack{i}/docker-compose.yml", text, [(pw, "password"), (tok, "token")]
    if kind == "properties":
        text = f"""spring.datasource.url=jdbc:postgresql://db.internal:5432/orders
spring.datasource.username=orders
spring.datasource.password={pw}
app.jwt.secret={tok}
app.public-key-path=/etc/orders/public.pem
app.request-id={g.uuid()}
app.placeholder-token={g.placeholder()}
"""
        return f"config/orders{i}/application.properties", text, [(pw, "password"), (tok, "jwt secret")]
    if kind == "npmrc":
        npm = g.crc_token("npm_")
        auth = base64.b64encode(f"ci:{pw}".encode()).decode()
        text = f"""registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken={npm}
//npm.internal.example.net/:_auth={auth}
always-auth=true
"""
        return f"config/web{i}/.npmrc", text, [(npm, "npm token"), (auth, "npm _auth")]
    salts = [g.s(ALNUM + "!#%&()*+,-.:;<=>?@[]^_{|}~", 64) for _ in range(2)]
    text = f"""<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', '{pw}' );
define( 'AUTH_KEY',         '{salts[0]}' );
define( 'SECURE_AUTH_SALT', '{salts[1]}' );
define( 'LOGGED_IN_KEY',    'put your unique phrase here' );
"""
    return f"config/site{i}/wp-config.php", text, [(pw, "password"), (salts[0], "salt"), (salts[1], "salt")]


def gen_notebook(g: Gen, i: int):
    tok, pw = g.mixed(32), g.password()
    prov, _, ptok = g.provider_token()
    src = ["import os\n", "import pandas as pd\n", f'os.environ["SERVICE_TOKEN"] = "{tok}"\n',
           f'client = Client(api_key="{ptok}")\n', f'db_password = "{pw}"\n',
           f'run_id = "{g.uuid()}"\n', 'token = os.environ["HF_TOKEN"]\n', f'placeholder = "{g.placeholder()}"\n']
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Exploration\n"]},
                    {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": src},
                    {"cell_type": "code", "execution_count": 2, "metadata": {},
                     "outputs": [{"name": "stdout", "output_type": "stream", "text": [f"sha256 {g.hexs(64)}\n"]}],
                     "source": ["print(df.head())\n"]}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return f"notebooks/explore{i}.ipynb", json.dumps(nb, indent=1), [(tok, "token"), (ptok, prov), (pw, "password")]


def gen_transcript(g: Gen, i: int):
    tok, pw = g.mixed(32), g.password()
    prov, name, ptok = g.provider_token()
    aws_id, aws_secret = g.aws_pair()
    lines = [
        {"type": "user", "message": {"role": "user", "content": "set up the deploy credentials"}},
        {"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "name": "Bash", "input": {"command": f"export {name}={ptok} && ./deploy.sh"}}]}},
        {"type": "tool_result", "content": f"cfg = {{\"api_token\": \"{tok}\", \"request_id\": \"{g.uuid()}\"}}\nok"},
        {"type": "tool_result", "content": f"[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n"},
        {"type": "assistant", "message": {"role": "assistant", "content": f"I set DB_PASSWORD={pw} in the .env file."}},
        {"type": "assistant", "message": {"role": "assistant", "content": f"The docs example key is {DOC_EXAMPLES['aws_id']}."}},
        {"type": "tool_result", "content": f"commit {g.hexs(40)}\nAuthor: dev"},
    ]
    text = "".join(json.dumps(x) + "\n" for x in lines)
    return f"transcripts/session{i}.jsonl", text, [(ptok, prov), (tok, "token"), (aws_id, "aws key id"),
                                                   (aws_secret, "aws secret"), (pw, "password")]


def gen_http(g: Gen, i: int):
    tok, key = g.mixed(40), g.hexs(32)
    basic = base64.b64encode(f"svc-{i}:{g.password()}".encode()).decode()
    jwt = g.jwt()
    text = f"""# captured requests
curl -s -H "Authorization: Bearer {tok}" https://api.internal.example.net/v1/items
curl -s -H 'X-Api-Key: {key}' https://metrics.internal.example.net/push
curl -s -H "Authorization: Bearer $API_TOKEN" https://api.internal.example.net/v1/items
curl -s -H "Authorization: Bearer <token>" https://api.internal.example.net/v1/items

GET /v1/orders HTTP/1.1
Host: orders.internal.example.net
Authorization: Basic {basic}
X-Request-Id: {g.uuid()}

POST /v1/refresh HTTP/1.1
Authorization: Bearer {jwt}
If-None-Match: "{g.hexs(32)}"

GET /v1/example HTTP/1.1
Authorization: Bearer {DOC_EXAMPLES['jwt']}
"""
    return f"http/requests{i}.http", text, [(tok, "bearer"), (key, "x-api-key"), (basic, "basic auth"), (jwt, "jwt")]


def gen_cli(g: Gen, i: int):
    mysql_pw, docker_pw, lit, api, tok = g.mixed(16), g.mixed(20), g.mixed(18), g.mixed(32), g.mixed(36)
    text = f"""#!/usr/bin/env bash
set -euo pipefail
mysqldump -u backup -p{mysql_pw} --single-transaction appdb > /var/backups/app.sql
docker login -u ci-bot -p {docker_pw} registry.internal.example.net
docker login -u ci-bot -p "$REGISTRY_PASSWORD" registry.internal.example.net
docker run -p 8080:80 -d nginx
mkdir -p /var/backups/app
kubectl create secret generic db --from-literal=DB_PASSWORD={lit} --from-literal=DB_HOST=db.internal
ingestctl push --api-key {api} ./dist
deployctl --token={tok} release
ingestctl push --api-key "$INGEST_API_KEY" ./dist
ingestctl push --api-key-id {g.uuid()} ./dist
"""
    return f"scripts/ops{i}.sh", text, [(mysql_pw, "mysql -p"), (docker_pw, "docker login -p"),
                                        (lit, "--from-literal"), (api, "--api-key"), (tok, "--token=")]


def gen_uri(g: Gen, i: int):
    pws = [g.mixed(16) for _ in range(4)]
    text = f"""DATABASE_URL=postgres://app:{pws[0]}@db.internal.example.net:5432/app
REDIS_URL=redis://default:{pws[1]}@cache.internal.example.net:6379/0
MONGO_URL=mongodb+srv://svc:{pws[2]}@cluster0.abcde.mongodb.net/prod?retryWrites=true
AMQP_URL=amqp://worker:{pws[3]}@mq.internal.example.net:5672/
READONLY_URL=postgres://reader@db.internal.example.net:5432/app
TEMPLATE_URL=postgres://app:${{DB_PASSWORD}}@db.internal.example.net:5432/app
DOCS_URL=postgres://user:password@localhost:5432/mydb
"""
    return f"uri/service{i}.env", text, [(p, "uri password") for p in pws]


def gen_private_key(g: Gen, i: int):
    key = _private_key(g)
    ssh_pub, pem_pub = _public_key()
    fmt = g.r.choice(["pem", "yaml"])
    if fmt == "pem":
        return f"keys/deploy{i}.pem", key, [(key.strip(), "private key")]
    indented = "\n".join("    " + ln for ln in key.strip().splitlines())
    text = f"""deploy:
  public_key: {ssh_pub}
  public_pem: |
{chr(10).join('    ' + ln for ln in pem_pub.strip().splitlines())}
  private_key: |
{indented}
"""
    return f"keys/deploy{i}.yaml", text, [(indented.strip(), "private key")]


def gen_provider(g: Gen, i: int):
    planted, body = [], []
    for _ in range(4):
        prov, name, tok = g.provider_token()
        planted.append((tok, prov))
        body.append(f"{name}={tok}")
    aws_id, aws_secret = g.aws_pair()
    body += [f"AWS_ACCESS_KEY_ID={aws_id}", f"AWS_SECRET_ACCESS_KEY={aws_secret}",
             f"EXAMPLE_AWS_KEY_ID={DOC_EXAMPLES['aws_id']}", f"EXAMPLE_AWS_SECRET={DOC_EXAMPLES['aws_secret']}",
             f"AZURITE_KEY={DOC_EXAMPLES['azurite']}",
             f"AZURE_TENANT_ID={g.uuid()}", f"GITHUB_TOKEN_PREFIX=ghp_{g.s(ALNUM, 6)}",
             f"STRIPE_PUBLISHABLE_KEY=pk_live_{g.s(ALNUM, 24)}"]
    # The key id is half of the credential (every scanner reports it): planted too.
    planted += [(aws_id, "aws key id"), (aws_secret, "aws secret")]
    g.r.shuffle(body)
    return f"providers/stack{i}.env", "\n".join(body) + "\n", planted


def gen_shapes(g: Gen, i: int):
    """The shapes issue 20 named last: passphrases, tokens split across literals, keys passed positionally to
    an SDK client, hex keys (a fifth of random 32-hex keys fall below 3.5 bits), UUID keys under key names;
    beside base64 JSON cursors, %(ENV_X)s and ${X:?message} templates, messages under password names,
    UUIDs under identifier names and jwt.io's sample token."""
    phrase = " ".join(g.r.choice(WORDS) for _ in range(g.r.randint(3, 5))) + f" {g.r.randint(10, 99)}"
    split, sdk, hexkey, uuidkey = g.mixed(32), g.mixed(32), g.hexs(32), g.uuid()
    cursor = base64.b64encode(json.dumps({"offset": g.r.randint(50, 5000), "limit": 50, "sort": "created_at"},
                                         separators=(",", ":")).encode()).decode()
    planted = [(phrase, "passphrase"), (split, "split literal"), (sdk, "sdk constructor"), (hexkey, "hex key"),
               (uuidkey, "uuid key")]
    if g.r.random() < 0.5:
        text = f'''import os

import shodan
import stripe

BACKUP_PASSPHRASE = "{phrase}"
PASSWORD_HELP = "must be at least twelve characters"
stripe.api_key = "sk_live_" + "{split}"
KEY_PREFIX = "sk_live_" + os.environ["KEY_ID"]
api = shodan.Shodan("{sdk}")
INGEST_API_KEY = "{hexkey}"
ATLAS_PRIVATE_KEY = "{uuidkey}"
AZURE_TENANT_ID = "{g.uuid()}"
next_page_token = "{cursor}"
DOCS_SAMPLE_TOKEN = "{DOC_EXAMPLES['jwt']}"
'''
        return f"shapes/svc{i}/settings.py", text, planted
    if g.r.random() < 0.5:
        text = f'''const stripe = require('stripe')('{sdk}');
const backupPassphrase = "{phrase}";
const passwordHint = "Please enter your password";
const githubToken = "ghp_" +
  "{split}";
const ingestApiKey = "{hexkey}";
const atlasPrivateKey = "{uuidkey}";
const requestId = "{g.uuid()}";
const nextCursor = "{cursor}";
'''
        return f"shapes/svc{i}/client.js", text, planted
    text = f'''[program:api]
command=/srv/api/bin/run
environment=API_KEY="%(ENV_API_KEY)s",DB_PASSWORD="%(ENV_DB_PASSWORD)s"

[unix_http_server]
password = %(ENV_SUPERVISOR_PASSWORD)s

[ingest]
api_key = {hexkey}
token_url = https://auth.internal.example.net/oauth/token
passphrase = "{phrase}"
request_id = {g.uuid()}
'''
    return f"shapes/svc{i}/supervisord.conf", text, [(phrase, "passphrase"), (hexkey, "hex key")]


GENERATORS = {"code": gen_code, "config": gen_config, "notebook": gen_notebook, "transcript": gen_transcript,
              "http-header": gen_http, "cli-flag": gen_cli, "uri": gen_uri, "private-key": gen_private_key,
              "provider": gen_provider, "code-shapes": gen_shapes}


def generate(root: Path, seed: int = 1, per_class: int = 10) -> list[Label]:
    g = Gen(seed)
    w = Writer(root)
    for cls in CLASSES:
        for i in range(per_class):
            rel, text, planted = GENERATORS[cls](g, i)
            w.write(rel, text, cls, planted)
    return w.labels


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files-per-class", type=int, default=10)
    args = ap.parse_args()
    labels = generate(args.out, args.seed, args.files_per_class)
    # Beside the corpus, not in it: a scanner pointed at the folder must not read the answers.
    out = args.out.with_name(args.out.name + ".labels.json")
    out.write_text(json.dumps([lb.__dict__ for lb in labels], indent=1))
    print(f"{len(labels)} planted secrets in {len({lb.path for lb in labels})} files under {args.out}; labels in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
