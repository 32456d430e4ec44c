"""Logs, transcripts, prompts and notebooks: secrets found where they leak, with the time they were logged."""
from __future__ import annotations

import json

import pytest
from conftest import GITHUB_TOKEN

from scanner.model import Provenance
from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions
from scanner.sources.logs import media_kind, time_seen

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"
SLACK = "xoxb-2094834729-2098374653821-aB3dE5fG7hJ9kL1mN3pQ5rS7"


def _found(tmp_path, name: str, text: str) -> dict[str, object]:
    path = tmp_path / name
    path.write_text(text)
    result = scan_paths([str(path)], ScanOptions(jobs=1, use_ignore_files=False))
    return {f.rule_id: f.locations[0] for f in result.findings}


def test_json_lines_log_secret_in_a_nested_field_takes_the_record_time(tmp_path):
    lines = [
        {"timestamp": "2026-04-01T10:00:00.123456789Z", "level": "info", "msg": "boot"},
        {"level": "debug", "http": {"request": {"headers": {"Authorization": f"token {GITHUB_TOKEN}"}}},
         "@timestamp": "2026-04-01T10:00:05+02:00"},
        {"ts": 1775037600, "msg": "charge", "ctx": {"stripe": STRIPE}},
    ]
    locs = _found(tmp_path, "api.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    gh, st = locs["github-pat-classic"], locs["stripe-live-secret-key"]
    assert (gh.line, gh.provenance.seen, gh.provenance.media) == (2, "2026-04-01T08:00:05Z", "json-log")
    assert (st.line, st.provenance.seen) == (3, "2026-04-01T10:00:00Z")


def test_plain_log_with_leading_timestamp(tmp_path):
    text = ("2026-04-02 11:22:33,456 INFO worker started\n"
            f"2026-04-02 11:22:34,001 ERROR slack post failed token={SLACK}\n")
    loc = _found(tmp_path, "worker.log", text)["slack-bot-token"]
    assert (loc.line, loc.provenance.seen, loc.provenance.media) == (2, "2026-04-02T11:22:34", "log")


def test_access_log_query_string_and_basic_auth_url(tmp_path):
    text = (
        f'10.0.0.1 - - [02/Apr/2026:11:22:33 +0000] "GET /hook?token={GITHUB_TOKEN} HTTP/1.1" 200 12\n'
        '10.0.0.2 - - [02/Apr/2026:11:23:00 +0100] "GET https://deploy:S3cr3tPassw0rd9x@git.internal.example.com/x '
        'HTTP/1.1" 301 0\n'
    )
    locs = _found(tmp_path, "access.log", text)
    assert locs["github-pat-classic"].provenance == Provenance(media="access-log", seen="2026-04-02T11:22:33Z")
    assert locs["basic-auth-url-credentials"].provenance.seen == "2026-04-02T10:23:00Z"


def test_http_debug_log_headers(tmp_path):
    text = "> POST /v1/charges HTTP/1.1\n> Host: api.stripe.com\n> Authorization: Bearer " + STRIPE + "\n< HTTP/1.1 200\n"
    loc = _found(tmp_path, "curl-trace.txt", text)["stripe-live-secret-key"]
    assert (loc.line, loc.provenance.media) == (3, "http-log")


def test_openai_and_anthropic_transcripts(tmp_path):
    openai = {"model": "gpt-4o", "messages": [
        {"role": "system", "content": "You are a deploy bot."},
        {"role": "user", "content": f"use my github token {GITHUB_TOKEN} to push"}]}
    anthropic = [{"role": "user", "content": [{"type": "text", "text": f"the slack bot token is {SLACK}"}]}]
    loc = _found(tmp_path, "chat.json", json.dumps(openai, indent=1))["github-pat-classic"]
    assert loc.provenance.media == "transcript" and loc.line == 10
    loc = _found(tmp_path, "conv.jsonl", "\n".join(json.dumps(m) for m in anthropic))["slack-bot-token"]
    assert loc.provenance.media == "transcript"


def test_prompt_files_and_markdown_system_prompts(tmp_path):
    loc = _found(tmp_path, "triage.prompt", f"You may call GitHub with {GITHUB_TOKEN}.\n")["github-pat-classic"]
    assert loc.provenance.media == "prompt"
    loc = _found(tmp_path, "system-prompt.md", f"# Agent\n\nStripe key: `{STRIPE}`\n")["stripe-live-secret-key"]
    assert (loc.line, loc.provenance.media) == (3, "prompt")


def test_notebook_source_and_output_cells(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "source": ["import stripe\n", f"stripe.api_key = '{STRIPE}'\n"], "outputs": []},
        {"cell_type": "code", "source": ["print(os.environ)"],
         "outputs": [{"output_type": "stream", "text": [f"{{'GITHUB_TOKEN': '{GITHUB_TOKEN}'}}\n"]}]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    locs = _found(tmp_path, "explore.ipynb", json.dumps(nb, indent=1))
    assert locs["stripe-live-secret-key"].provenance.media == "notebook"
    assert locs["github-pat-classic"].provenance.media == "notebook"


def test_mcp_client_log(tmp_path):
    text = ('2026-04-03T09:00:00.000Z [github] [info] Message from client: {"jsonrpc":"2.0","method":"initialize"}\n'
            f'2026-04-03T09:00:01.000Z [github] [info] env GITHUB_PERSONAL_ACCESS_TOKEN={GITHUB_TOKEN}\n')
    loc = _found(tmp_path, "mcp-server-github.log", text)["github-pat-classic"]
    assert loc.provenance == Provenance(media="mcp-log", seen="2026-04-03T09:00:01Z")


@pytest.mark.parametrize("line,expected", [
    (b"2026-01-01T00:00:00Z x", "2026-01-01T00:00:00Z"),
    (b"[2026-01-01 01:00:00.5+01:00] x", "2026-01-01T00:00:00Z"),
    (b'{"time": 1767225600123, "x": 1}', "2026-01-01T00:00:00Z"),
    (b'{"msg": "no time here"}', None),
    (b"plain text with 2026-01-01 inside", None),
])
def test_time_seen(line, expected):
    assert time_seen(b"before\n" + line + b"\nafter", 10) == expected


def test_media_kind_ignores_ordinary_source_files():
    assert media_kind("src/app.py", b"import os\n") == ""
    assert media_kind("config.json", b'{"a": 1}') == ""
