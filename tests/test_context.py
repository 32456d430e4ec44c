"""Context analysis on real snippets written as the files they would be (the path picks the parser)."""
from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.engine import Engine
from scanner.engine.context import WINDOW, ContextAnalyzer, _View
from scanner.engine.context.names import about_secret, secret_name_kind, value_reason
from scanner.engine.context.syntax import language_for
from scanner.rules import load_rules

SECRET = "Kq7Wm2Xr9Lt4Vz8N"


@pytest.fixture(scope="module")
def engine():
    return Engine(load_rules())


def secrets(engine, text, path):
    return {m.secret: m for m in engine.scan(text.encode(), path)}


@pytest.mark.parametrize("path,text", [
    ("a.py", f'API_TOKEN = "{SECRET}"\n'),
    ("a.py", f'client = Client(api_key="{SECRET}")\n'),
    ("a.py", f'cfg = {{"client_secret": "{SECRET}"}}\n'),
    ("a.js", f'const authToken = "{SECRET}";\n'),
    ("a.ts", f'class C {{ private dbPassword: string = "{SECRET}"; }}\n'),
    ("a.tsx", f'const apiKey = "{SECRET}";\n'),
    ("a.go", f'package m\nvar c = Config{{Password: "{SECRET}"}}\n'),
    ("A.java", f'class A {{ String secretKey = "{SECRET}"; }}\n'),
    ("a.rb", f'config = {{ api_key: "{SECRET}" }}\n'),
    ("a.sh", f'export SERVICE_TOKEN="{SECRET}"\n'),
    ("a.yaml", f'service:\n  access_token: {SECRET}\n'),
    ("a.json", f'{{"auth": {{"privateKey": "{SECRET}"}}}}'),
    ("a.toml", f'[registry]\ntoken = "{SECRET}"\n'),
    ("a.tf", f'provider "x" {{\n  api_key = "{SECRET}"\n}}\n'),
    (".env", f"SMTP_PASSWORD={SECRET}\n"),
    ("app.ini", f"[db]\npassword = {SECRET}\n"),
    ("app.properties", f"mail.smtp.password={SECRET}\n"),
    ("Dockerfile", f"FROM alpine\nENV MODE=prod SERVICE_TOKEN={SECRET}\n"),
    ("app.xml", f'<smtp host="mail" password="{SECRET}"/>\n'),
    ("a.log", f"GET /export?format=csv&api_key={SECRET} 200\n"),
])
def test_generic_secret_found_in_each_context(engine, path, text):
    found = secrets(engine, text, path)
    assert SECRET in found, (path, found)
    assert found[SECRET].confidence in ("medium", "high")


@pytest.mark.parametrize("path,text", [
    ("a.py", 'api_key = os.environ["SERVICE_API_KEY_2024"]\n'),
    ("a.py", 'token = os.getenv("GH_TOKEN_2024x")\n'),
    ("a.js", "const token = process.env.SERVICE_TOKEN9;\n"),
    ("A.java", 'class A { String password = System.getenv("APP_PASSWORD9x"); }\n'),
    ("a.rb", 'token = ENV["SERVICE_TOKEN_9x"]\n'),
    ("a.go", 'package m\nvar token = os.Getenv("SERVICE_TOKEN_9x")\n'),
    ("a.py", 'password = vault("secret/data/db9x")\n'),
    ("a.tf", "resource \"x\" \"y\" {\n  password = var.db_password9\n}\n"),
])
def test_environment_and_secret_manager_lookups_dropped(engine, path, text):
    assert not secrets(engine, text, path)


@pytest.mark.parametrize("value", ["YOUR_API_KEY", "<token>", "xxxxxxxxxxxx", "changeme", "${SERVICE_TOKEN}",
                                   "{{ .Values.token }}", "%(password)s", "sk_live_****************"])
def test_placeholders_and_templates_not_reported(engine, value):
    found = secrets(engine, f'api_token = "{value}"\n', "a.py")
    assert all(m.confidence == "low" for m in found.values()), found
    assert value not in found or value == "changeme"


def test_documented_example_dropped(engine):
    assert "AKIAIOSFODNN7EXAMPLE" not in secrets(engine, 'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"\n', "a.py")


@pytest.mark.parametrize("path,text", [
    ("package-lock.json", '{"integrity": "sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5"}'),
    ("a.py", 'commit_token_sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"\n'),
    ("a.py", 'auth_secret = "sha256$Zx81$b7c4e1f0a9d2c3b4a5f60718293a4b5c"\n'),
    # A UUID under an identifier word names something; under api_token it may be the key (issue 20,
    # tests/test_detection_cases.py::test_a_uuid_under_a_secret_name_but_not_under_an_identifier_name).
    ("a.py", 'subscription_key = "0b7e3c2a-9f41-4d6b-8a5e-2c1d3f4e5a6b"\n'),
    ("a.py", 'deploy_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq7Wm2Xr9Lt4Vz8NKq7Wm2Xr9Lt4Vz8N ops@ci"\n'),
    ("a.py", "password_min_length = 12\n"),
    ("a.py", 'token_type = "bearer"\n'),
    ("a.py", 'secret_name = "billing-db-credentials-2"\n'),
    ("a.yaml", "password: db_password\n"),
])
def test_hashes_uuids_public_keys_and_names_about_secrets(engine, path, text):
    found = secrets(engine, text, path)
    assert not [m for m in found.values() if m.rule_id.startswith(("generic", "password"))], found


def test_base64_image_not_scanned_for_keys(engine):
    blob = base64.b64encode(bytes(range(256)) * 2).decode()
    text = f".x {{ background: url(data:image/png;base64,{blob}AKIAZ7WQ3LM9RT2VX8KN) }}\n"
    assert not [m for m in engine.scan(text.encode(), "a.css") if m.provider == "aws"]


def test_minified_code_lowered(engine):
    line = "var a=1;" * 200 + f'var cfg={{authToken:"{SECRET}"}};' + "var b=2;" * 10
    found = secrets(engine, line, "dist/app.js")
    assert all(m.confidence == "low" for m in found.values())


def test_comment_lowers_not_hides(engine):
    found = secrets(engine, f'# old_password = "{SECRET}"\n', "a.py")
    assert found[SECRET].confidence == "low"
    assert "in a comment" in found[SECRET].reasons


def test_test_file_lowers_not_hides(engine):
    found = secrets(engine, f'API_TOKEN = "{SECRET}"\n', "tests/test_client.py")
    assert found[SECRET].confidence == "low"
    assert "in a test file" in found[SECRET].reasons


def test_test_files_by_their_names(engine):
    """Test modules named for what they test, wherever they sit: minitwit_tests.py, a Django app's tests.py,
    client_test.go, app.spec.ts; not a module whose name only holds the word (contest.py, latest.py)."""
    from scanner.engine.core import is_test_path

    for path in ("examples/minitwit/minitwit_tests.py", "shop/orders/tests.py", "pkg/client_test.go",
                 "web/app.spec.ts", "tests/test_client.py", "conftest.py"):
        assert is_test_path(path), path
    for path in ("contest.py", "app/latest.py", "attestations.py", "src/testing_utils.py"):
        assert not is_test_path(path), path
    found = secrets(engine, f'API_TOKEN = "{SECRET}"\n', "examples/minitwit/minitwit_tests.py")
    assert found[SECRET].confidence == "low"


def test_wrong_checksum_token_lowered(engine):
    # A GitHub token's last six characters are a CRC32 of the rest; these are not.
    found = secrets(engine, 'token = "ghp_Kq7Wm2Xr9Lt4Vz8NKq7Wm2Xr9Lt4Vz8Nab12"\n', "a.py")
    assert all(m.confidence == "low" for m in found.values()) and found


def test_code_expression_is_not_a_literal(engine):
    assert not secrets(engine, "password = read_secret_2024(path)\n", "a.py")


def test_context_off_keeps_rule_behaviour():
    rules = load_rules()
    text = b'# old_password = "Kq7Wm2Xr9Lt4Vz8N"\n'
    assert Engine(rules, context=False).scan(text, "a.py")[0].confidence == "medium"
    assert Engine(rules).scan(text, "a.py")[0].confidence == "low"


def test_parsers_built_once_and_only_when_needed():
    analyzer = ContextAnalyzer(load_rules())
    engine = Engine(load_rules())
    engine.context = analyzer
    engine.scan(b"def add(a, b):\n    return a + b\n", "plain.py")
    assert "python" not in analyzer.parsers._parsers  # nothing to judge: no parse
    engine.scan(f'token = "{SECRET}"\n'.encode(), "one.py")
    parser = analyzer.parsers._parsers["python"]
    engine.scan(f'secret = "{SECRET}"\n'.encode(), "two.py")
    assert analyzer.parsers._parsers["python"] is parser


def test_names_and_values():
    assert secret_name_kind("DB_PASSWORD") == "password"
    assert secret_name_kind("apiKey") == secret_name_kind("x-api-key") == secret_name_kind("client.secret") == "generic"
    assert secret_name_kind("author") is None and secret_name_kind("tokenizer") is None
    assert about_secret("password_min_length") and about_secret("tokenType") and not about_secret("stripe_key")
    assert value_reason("os.environ['X']") and value_reason("$2b$12$" + "a" * 53) and value_reason("real_key")
    assert value_reason(SECRET) is None
    assert language_for("infra/main.tf") == "hcl" and language_for("src/App.tsx") == "tsx"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "_", "-", ".", " ", "=", '"', ":", "token", "x" * 50, "é", "9", "\n"]), max_size=40),
       st.lists(st.integers(min_value=0, max_value=400), max_size=5), st.booleans())
def test_hint_names_are_the_runs_of_name_characters_around_the_word(parts, offsets, quoted_only):
    from scanner.engine.context.hints import _AFTER_NAME, value_starts

    data = "".join(parts).encode()
    ends = sorted({o for o in offsets if o <= len(data)})
    expected = []
    for end in ends:
        if after := _AFTER_NAME.match(data, end):
            if quoted_only and chr(data[after.end() - 1]) not in "\"'`":
                expected.append((after.end(), ""))  # code: no quote, no literal to name
                continue
            start = name_end = after.end(1)
            while start > max(0, name_end - 80) and chr(data[start - 1]).isascii() and (
                    chr(data[start - 1]).isalnum() or chr(data[start - 1]) in "_.-"):
                start -= 1
            expected.append((after.end(), data[start:name_end].decode("latin-1")))
    assert value_starts(data, ends, quoted_only) == expected


def test_equals_lines_in_yaml_are_not_parsed_for_a_name(engine, monkeypatch):
    # In YAML and JSON only a colon gives a value a name: `x_token = "..."` there is text, so the
    # file is not parsed for it (a generated tree full of such lines cost a parse each), while the
    # colon form is still found by name.
    parsed = []
    original = engine.context.parsers.parse
    monkeypatch.setattr(engine.context.parsers, "parse", lambda data, lang: parsed.append(lang) or original(data, lang))
    value = "Kq-Wm_Xr.Lt~Vz+N"  # no digit: only found by its name, never by the generic rule's pattern
    assert secrets(engine, f'steps:\n  - name: build\nsession_token = "{value}"\n', "ci.yaml") == {}
    assert parsed == []
    found = secrets(engine, f'steps:\n  - session_token: "{value}"\n', "ci.yaml")
    assert value in found and parsed == ["yaml"]


def test_words_under_generic_names_are_not_parsed_for(engine, monkeypatch):
    # A word under a generic secret-ish name ("input_token": "NextToken", as AWS paginator files hold on
    # every page) is dropped by the judge whatever the parse says, so it costs no parse; a word under a
    # password name may be a password and is still judged, as is a key under a generic name.
    parsed = []
    original = engine.context.parsers.parse
    monkeypatch.setattr(engine.context.parsers, "parse", lambda data, lang: parsed.append(lang) or original(data, lang))
    pages = "".join(f'  "List{i}": {{"input_token": "NextToken", "output_token": "NextToken"}},\n' for i in range(50))
    assert secrets(engine, "{\n" + pages + '  "end": {}\n}\n', "paginators-1.json") == {}
    assert parsed == []
    assert "Sunflower" in secrets(engine, '{"db": {"password": "Sunflower"}}\n', "config.json")
    assert parsed == ["json"]
    key = "Kq-Wm_Xr.Lt~Vz+N"
    assert key in secrets(engine, f'{{"session_token": "{key}"}}\n', "config.json")


def test_a_window_near_the_start_of_a_file_starts_there(engine):
    # A module docstring's lines are unindented: a window that started at the first of them would parse
    # the docstring as code and the code after it as a string, so a name imported after it read as a
    # string literal (parso's diff.py kept a false finding so). Near its start a file is parsed from it.
    body = "".join(f'def helper_{i}(value):\n    """Scale the value."""\n    return value * {i}\n\n\n' for i in range(120))
    text = ('"""\nThe diff parser.\n\nIt is unindented prose, as module docstrings are.\n"""\nimport difflib\n'
            "from parso.python.tokenize import PythonToken, BOM_UTF8_STRING\n\n\n" + body).encode()
    assert len(text) > 2 * WINDOW  # parsed in windows
    view = _View(text, "parso/python/diff.py", engine.context.parsers)
    site = view.site(text.index(b"BOM_UTF8_STRING"))
    assert not site.literal and site.name is None


def test_unquoted_values_in_code_are_not_judged_by_name_but_their_query_strings_are(engine, monkeypatch):
    # In code a value no quote opens is an expression (settings.API_KEY), never a literal: it is given no
    # name and costs nothing more, while a URL's query parameter on such a line is still found.
    judged = []
    original = engine.context._judge_value
    monkeypatch.setattr(engine.context, "_judge_value", lambda view, site, make: judged.append(site.name)
                        or original(view, site, make))
    code = "".join(f"    api_key_{i} = settings.API_KEY_{i}\n    token_{i} = request.headers.get(x)\n" for i in range(50))
    assert secrets(engine, "def handler(request):\n" + code, "app.py") == {}
    assert judged == []
    found = secrets(engine, f'    url = "https://api.example.net/v1/items?api_key={SECRET}"\n', "client.py")
    assert SECRET in found
