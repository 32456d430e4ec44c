"""Decoders: secrets inside base64, percent-encoding, JSON escapes, Basic auth and query strings,
reported at the outer location; bounded in depth and size."""
from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.engine import Engine, decoders
from scanner.rules import load_rules

SECRET = "Fm8Rt2Wx6Lq4Vk9N"


@pytest.fixture(scope="module")
def engine():
    return Engine(load_rules())


def test_base64_blob_holding_a_config(engine):
    inner = f'api_key = "{SECRET}"\n'.encode()
    blob = base64.b64encode(inner).decode()
    text = f"config_blob: {blob}\n"
    [m] = [m for m in engine.scan(text.encode(), "values.txt") if m.secret == SECRET]
    assert "decoded from base64" in m.reasons
    assert text[m.column - 1 :].startswith(blob)  # the outer location, where a reader finds it
    assert m.line == 1


def test_base64url_blob(engine):
    # Pad the text until its base64url form uses the url alphabet (- or _).
    blob, n = "", 0
    while "-" not in blob and "_" not in blob:
        n += 1
        inner = f'client_secret = "{SECRET}" # {"?>" * n}\n'.encode()
        blob = base64.urlsafe_b64encode(inner).decode().rstrip("=")
    found = [m for m in engine.scan(f"state={blob}\n".encode(), "x.txt") if "decoded from base64" in m.reasons]
    assert found


def test_kubernetes_secret_value_judged_decoded(engine):
    text = "kind: Secret\ndata:\n  DB_PASSWORD: " + base64.b64encode(b"changeme").decode() + "\n"
    matches = engine.scan(text.encode(), "secret.yaml")
    assert all(m.confidence == "low" for m in matches)


def test_percent_encoded(engine):
    text = "next=" + quote(f'https://api.example.net/cb?x=1 token: "{SECRET}"', safe="") + "\n"
    assert any(m.secret == SECRET for m in engine.scan(text.encode(), "access.log"))


def test_json_escapes_in_a_log_line(engine):
    payload = json.dumps(json.dumps({"service": "billing", "api_key": SECRET}))
    text = f"2026-01-01T00:00:00Z body={payload}\n"
    [m] = [m for m in engine.scan(text.encode(), "app.log") if m.secret == SECRET]
    assert "decoded from JSON string escapes" in m.reasons


def test_basic_auth_placeholder_dropped_real_kept(engine):
    real = base64.b64encode(b"deploy:Np5Rk8Wt2Qz7Lx4M").decode()
    fake = base64.b64encode(b"admin:<password>").decode()
    text = f"Authorization: Basic {real}\nAuthorization: Basic {fake}\n"
    found = {m.secret for m in engine.scan(text.encode(), "req.txt")}
    assert real in found and fake not in found
    assert decoders.basic_credentials(real) == ("deploy", "Np5Rk8Wt2Qz7Lx4M")


def test_query_string_secret(engine):
    text = f"GET /v1/items?page=2&access_token={SECRET} 200\nGET /v1/items?access_token=REDACTED 401\n"
    found = {m.secret: m for m in engine.scan(text.encode(), "access.log")}
    assert SECRET in found and "REDACTED" not in found


def test_depth_is_bounded(engine):
    inner = f'api_key = "{SECRET}"\n'.encode()
    for _ in range(decoders.MAX_DEPTH + 1):
        inner = base64.b64encode(inner)
    assert not [m for m in engine.scan(inner, "x.txt") if m.secret == SECRET]
    once = base64.b64encode(base64.b64encode(f'api_key = "{SECRET}"\n'.encode()))
    assert any(m.secret == SECRET for m in engine.scan(once, "x.txt"))


def test_binary_and_images_not_decoded():
    noise = base64.b64encode(bytes(range(256))).decode()
    assert list(decoders.decoded_spans(noise.encode())) == []
    text = base64.b64encode(b"token = Fm8Rt2Wx6Lq4Vk9N and more text").decode()
    assert list(decoders.decoded_spans(f"url(data:image/png;base64,{text})".encode())) == []


def test_span_count_is_bounded_and_a_spent_budget_is_counted():
    one = base64.b64encode(b"harmless text that decodes fine 1").decode()
    data = "\n".join([f"v{i}={one}" for i in range(decoders.MAX_SPANS * 3)]).encode()
    decoders.budget_spent()
    assert len(list(decoders.decoded_spans(data))) == decoders.MAX_SPANS
    assert decoders.budget_spent() == 1
    assert len(list(decoders.decoded_spans(data[: len(data) // 4]))) < decoders.MAX_SPANS
    assert decoders.budget_spent() == 0


def _random_token(rng, n: int = 40) -> str:
    import string

    return "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n - 4))


def test_every_one_of_120_encoded_secrets_is_found(engine):
    """64 spans per region decoded 64 of them (56 of 120 were missed, and kept by redact)."""
    import random

    rng = random.Random(17)
    values = [f"{rng.choice('AB')}{i:03d}x" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20))
              for i in range(120)]
    lines = [f"blob{i}: " + base64.b64encode(f'api_key = "{v}"\n'.encode()).decode() for i, v in enumerate(values)]
    found = {m.secret for m in engine.scan("\n".join(lines).encode(), "values.txt")}
    assert found >= set(values), len(set(values) - found)


def test_decoy_blobs_before_an_encoded_token_do_not_hide_it(engine):
    import random

    rng = random.Random(70)
    decoys = [base64.b64encode(f"harmless log line number {i} with text {rng.random()}".encode()).decode()
              for i in range(70)]
    inner = f'api_key = "{SECRET}"\n'.encode()
    text = "\n".join([*(f"d{i}: {d}" for i, d in enumerate(decoys)), "cfg: " + base64.b64encode(inner).decode()])
    assert any(m.secret == SECRET for m in engine.scan(text.encode(), "values.txt"))


def test_report_does_not_disclose_the_encoded_secret(tmp_path):
    from scanner.pipeline.files import scan_paths

    blob = base64.b64encode(f'api_key = "{SECRET}"\n'.encode()).decode()
    (tmp_path / "values.txt").write_text(f"config_blob: {blob}\n")
    [finding] = [f for f in scan_paths([str(tmp_path)]).findings if "decoded from base64" in f.reasons]
    snippet = finding.first_location.snippet
    assert blob not in snippet and SECRET not in snippet and finding.preview in snippet


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["A", "z", "9", "+", "/", "_", "-", "=", " ", "\n", "%2F", "%", "%g", '\\":', ";base64,", "x" * 40,
                                 "aB3" * 12, "é"]), max_size=60))
def test_hyperscan_facts_agree_with_the_portable_ones(parts):
    # The facts of the decoders' own Hyperscan pass, and of the matcher's pass (the same patterns beside
    # the rule patterns), are the portable facts, and lead to the same spans.
    pytest.importorskip("hyperscan")
    assert decoders._finder() is not decoders._find_portable
    data = "".join(parts).encode()
    portable = decoders._find_portable(data)
    for facts in (decoders._finder()(data), _matcher_facts(data)):
        assert facts == portable
        assert list(decoders._spans(data, 0, len(data), facts)) == list(decoders._spans(data, 0, len(data), portable))


def _matcher_facts(data: bytes) -> decoders.Facts:
    from scanner.engine.hyperscan_matcher import HyperscanMatcher

    global _MATCHER
    if _MATCHER is None:
        _MATCHER = HyperscanMatcher(list(load_rules()))
    return _MATCHER.prescan(data, hints=True).decoder_facts


_MATCHER = None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["?", "&", "=", "token", "a", "x9", "%41", " ", "\n", "#", "?q=", "&api_key=", "abcdef123"]),
                max_size=40))
def test_query_params_equal_a_regex_scan(parts):
    data = "".join(parts).encode()
    expected = [(m.group(1).decode(), m.start(2), m.end(2)) for m in decoders.QUERY_PARAM.finditer(data)]
    assert [(name, start, end) for name, start, end, _ in decoders.query_params(data)] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["?", "&", "=", "token", "api_key", "Auth", "a", "x9", "%41", " ", "\n", "#", '"', ";",
                                 "?q=", "&api_key=", "?next=/p", "abcdef123", "PASSWORD", "key"]), max_size=60),
       st.integers(0, 3))
def test_named_query_params_find_every_secret_named_parameter_query_params_find(parts, copies):
    from scanner.engine.context.names import is_secret_name

    pytest.importorskip("hyperscan")
    # Large enough for the Hyperscan pass (smaller texts are walked whole either way).
    body = "".join(parts).encode()
    data = b"x" * 70_000 + (body + b" " + b"y" * 500) * copies + body

    def secret(found):
        return [(name, start, end) for name, start, end, _ in found if is_secret_name(name)]

    assert secret(decoders.named_query_params(data)) == secret(decoders.query_params(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["data:", "image/png", "IMAGE/SVG+XML", "font/woff2", ";base64,", "iVBOR", "AAAA==", " ",
                                 "\n", "x" * 70, "a/b", "/", ";", "=", "data:a/b;base64,"]), max_size=40))
def test_data_uris_are_those_a_regex_scan_finds(parts):
    data = "".join(parts).encode()
    assert decoders.data_uris(data) == [m.span() for m in decoders.DATA_URI.finditer(data)]
    assert list(decoders._marks(data)) == [m.start() for m in re.finditer(re.escape(b";base64,"), data)]


def test_escaped_json_on_a_line_of_quoted_documentation(engine):
    # An API model's line: documentation strings dense with escaped quotes and longer than the old
    # pattern's reach, then a serialized document holding a key. A backtracking pattern took 42 s on
    # this 21 KB line; a JSON string is now read once, so the test takes milliseconds.
    doc = '"<p>Example: ' + ' \\"k\\": \\"v\\",' * 100 + " " + "x" * 9000 + '</p>"'
    inner = json.dumps(json.dumps({"api_key": SECRET}))
    line = '{"documentation": [' + ", ".join([doc] * 2) + '], "example": ' + inner + "}"
    found = [m for m in engine.scan(line.encode(), "model.json") if m.secret == SECRET]
    assert found and "decoded from JSON string escapes" in found[0].reasons


def test_encoded_secrets_deep_in_a_large_blob_are_decoded_once(engine):
    # A log read whole can be larger than a decoder region: a secret base64-encoded near the end,
    # and one straddling a region boundary, are decoded and reported once each.
    encoded = base64.b64encode(f'{{"api_key": "{SECRET}"}}'.encode()).decode()
    line = f"2026-01-01T00:00:00Z DEBUG payload={encoded}\n".encode()
    filler = b"2026-01-01T00:00:00Z INFO nothing to see here\n"
    body = bytearray(filler * (2 * decoders.MAX_BLOB_BYTES // len(filler) + 10))
    for at in (decoders.MAX_BLOB_BYTES - 30, len(body) - 3 * len(line)):
        body[at:at + len(line)] = line
    found = [m for m in engine.scan(bytes(body), "app.log") if m.secret == SECRET]
    assert len(found) == 2 and all("decoded from base64" in m.reasons for m in found)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["A", "z", "9", "+", "/", "_", "-", "=", " ", "\n", ".", "é", "x" * 31, "aB3" * 11,
                                 "Zq9" * 20]), max_size=80), st.integers(0, 200))
def test_base64_runs_found_with_hyperscan_are_the_portable_ones(parts, pos):
    pytest.importorskip("hyperscan")
    assert decoders._run_finder() is not None
    data = "".join(parts).encode()
    assert list(decoders._base64_runs(data, pos)) == list(decoders._base64_runs_portable(data, pos))


def test_a_spent_budget_is_a_warning_in_the_summary(tmp_path):
    """More encoded spans than the budget in one region: the scan says so instead of passing silently."""
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.options import ScanOptions

    one = base64.b64encode(b"harmless text that decodes fine 1").decode()
    (tmp_path / "many.txt").write_text("".join(f"v{i}={one}\n" for i in range(decoders.MAX_SPANS + 10)))
    (tmp_path / "few.txt").write_text("".join(f"v{i}={one}\n" for i in range(10)))
    result = scan_paths([str(tmp_path)], ScanOptions(jobs=1, use_ignore_files=False))
    [warning] = result.stats.warnings
    assert warning.startswith(str(tmp_path / "many.txt")) and "decoders' budget" in warning


def test_a_decoded_blob_reports_every_secret_in_it():
    # An encoded ~/.aws/credentials: the key id and the secret key are both reported (only the first was).
    credentials = ("[default]\naws_access_key_id = AKIAQYLPMN5HFIQR7XYZ\n"
                   "aws_secret_access_key = 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\n")
    line = f"AWS_CREDENTIALS_B64={base64.b64encode(credentials.encode()).decode()}\n".encode()
    found = {m.rule_id: m.secret for m in Engine(load_rules()).scan(line, "deploy.env")}
    assert found.get("aws-access-key-id") == "AKIAQYLPMN5HFIQR7XYZ"
    assert found.get("aws-secret-access-key") == "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"


@given(st.binary(max_size=300).map(lambda b: bytes(c & 0x7F for c in b)))
def test_ascii_printable_fast_path_says_what_str_isprintable_says(raw):
    from scanner.engine.decoders import _printable

    text = raw.decode("ascii")
    expected = bool(raw) and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.97 * len(text)
    assert _printable(raw) == expected


@given(st.text(alphabet="abcdefABCDEF0123456789+/_-", min_size=1, max_size=80))
def test_mixed_run_needs_a_digit_and_both_cases(run):
    from scanner.engine.decoders import _mixed

    raw = run.encode()
    expected = any(c.isdigit() for c in run) and any(c.isupper() for c in run) and any(c.islower() for c in run)
    assert _mixed(b"  " + raw + b"  ", 2, 2 + len(raw)) == expected


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(['"', "\\", "a", ":", '\\"', '\\":', "\\\\", "é"]), max_size=40))
def test_the_json_string_pattern_picks_the_strings_the_plain_loop_picks(parts):
    # The reference: every string literal on the line in turn (one alternation per character), kept when
    # it is closed and holds an escaped quote. The pattern must pick the same spans.
    import re

    from scanner.engine.decoders import _ESCAPED_QUOTE, _JSON_STRING

    plain = re.compile(rb'"(?:[^"\\\n]|\\.)*+("?)')
    line = "".join(parts).encode()
    expected = [m.span() for m in plain.finditer(line) if m.group(1) and _ESCAPED_QUOTE in m.group()]
    picked = [m.span(1) for m in _JSON_STRING.finditer(line) if m.group(2) and _ESCAPED_QUOTE in line[m.start(1):m.end(1)]]
    assert picked == expected
