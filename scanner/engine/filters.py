"""Values that look like secrets but are not: placeholders, templates, documented examples, redactions."""
from __future__ import annotations

import functools
import hashlib
import re

from scanner.rules import RuleError
from scanner.rules.loader import builtin_rules_dir

_TEMPLATE = re.compile(
    r"""
    \$\([^)]*\)          # $(command)
    | \{\{[^}]*\}\}        # {{ .Values.x }}, {{ secrets.X }}
    | %\([A-Za-z_][A-Za-z0-9_]*\)s  # %(password)s, %(ENV_DB_PASSWORD)s (Python %-format, supervisord)
    | <%=?[^%]*%>          # ERB
    | ^<[^<>]{1,60}>$      # <token>
    | ^&lt;.{1,60}&gt;$    # &lt;token&gt; (HTML-escaped)
    | ^\$[A-Z_][A-Z0-9_]*$ # $VAR
    | ^%[A-Z_][A-Z0-9_]*%$ # %VAR%
    """,
    re.VERBOSE,
)
_PLACEHOLDER_PHRASE = re.compile(
    r"(?i)^(?:your|the|enter|insert|replace|put|add|paste)[_\- ]?(?:own[_\- ]?)?[a-z_\- ]*"
    r"(?:key|token|secret|password|pass|pwd|here|id)[a-z_\- ]*$"
)
_PLACEHOLDER_WORD = re.compile(
    r"(?i)^(?:example|sample|dummy|placeholder|redacted|none|null|nil|undefined|todo|tbd|xxx+|\*+|true|false|"
    r"password|passwd|pwd|username|user)$"
)
# Default and dictionary passwords: weak, but a real credential where a password is expected.
_DEFAULT_PASSWORD = re.compile(
    r"(?i)^(?:change_?me|changeit|password\d+|passw0rd|secret\d*|admin\d*|root|toor|guest|test\d*|testing|"
    r"foo|bar|foobar|letmein|qwerty|default|pass|mypass(?:word)?|mysecret|demo|open[_\- ]?sesame|"
    r"-?anonymous(?:@[\w.\-]*)?)$"  # anonymous FTP's convention: `anonymous`, `anonymous@` or an address
)
# A release number under a name that says pass (`'Test2::Event::Pass' => '1.302190'` in Perl's CoreList).
_VERSION = re.compile(r"^v?\d{1,4}(?:\.\d{1,8}){1,3}$")
# An ellipsis inside a value (sk-ab12...9fXz, ghp_Ab…yZ) is a shortened display, never a whole key.
_REDACTED = re.compile(r"(?:\*{3,}|x{6,}|X{6,}|•{3,}|\.{3,}|…|#{4,}|<redacted>|\[redacted\]|REDACTED)", re.IGNORECASE)
_RUN = re.compile(r"(.)\1{7,}")
# sops: ENC[AES256_GCM,data:...,iv:...,tag:...,type:str] is ciphertext; the key is elsewhere.
_SOPS = re.compile(r"^ENC\[[A-Z0-9_]{3,24},data:")
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_CLOSE = {")": "(", "]": "[", "}": "{"}



def placeholder_reason(secret: str) -> str | None:
    """Why the value is a placeholder, template or redaction, or None if it may be real.

    Drop these: nobody can authenticate with them.
    """
    value, body = _value_and_body(secret)
    if _TEMPLATE.search(value) or _interpolation(value):
        return "template or variable reference"
    if _SOPS.match(value):
        return "encrypted with sops"
    if _PLACEHOLDER_PHRASE.match(value) or _PLACEHOLDER_WORD.match(value):
        return "placeholder text"
    if _REDACTED.search(value):
        return "redacted value"
    if len(body) >= 8 and len(set(body.lower())) <= 2:
        return "repeated characters"
    # One run, or one straight sequence, that is two thirds of the value: a template such as AIzaaaaa...
    longest_run = max((len(m.group()) for m in _RUN.finditer(body)), default=0)
    if len(body) >= 8 and 3 * max(longest_run, _long_ascending_run(body.lower())) >= 2 * len(body):
        return "filler characters"
    return None


def _interpolation(value: str) -> bool:
    """Whether value holds a ${...} that could be an interpolation: its body balances its brackets
    (${VAR}, ${VAR:-x}, ${cfg["k"]}, ${fn(a)}). A body such as `e]nob(x[y>-_$#z` parses as no
    expression in any template language: a password with punctuation, not a reference
    (tests/test_filters.py::test_interpolation_needs_balanced_brackets)."""
    for m in _INTERPOLATION.finditer(value):
        stack: list[str] = []
        for ch in m.group(1):
            if ch in "([{":
                stack.append(ch)
            elif ch in _CLOSE and (not stack or stack.pop() != _CLOSE[ch]):
                break
        else:
            if not stack:
                return True
    return False


def filler_reason(secret: str) -> str | None:
    """Why the value looks like filler (a long run, a straight sequence), or None.

    Lower these to low confidence rather than drop them: sample and test keys are built
    this way, and a report at low confidence costs less than a missed key.
    """
    value, body = _value_and_body(secret)
    if _DEFAULT_PASSWORD.match(value):
        return "default or dictionary password"
    if _VERSION.match(value):
        return "a version number"
    # Real tokens may hold a run (Twitter bearer tokens start with twenty A's); runs that make up
    # a third of the value are filler.
    in_runs = sum(len(m.group()) for m in _RUN.finditer(body))
    if in_runs and in_runs * 3 >= len(body):
        return "long run of one character"
    # A straight run of half the value is filler when it is long (abcdefghij...) or most of the value;
    # a short one after a word is how people build passwords (abuser123456, 4ian1234), kept at its
    # rule's confidence (tests/test_detection_cases.py::test_a_short_run_in_a_password_is_not_filler).
    run = _long_ascending_run(body.lower()) if len(body) >= 8 else 0
    if run * 2 >= len(body) and (run >= 8 or run * 3 >= 2 * len(body)):
        return "sequential characters"
    return None


def _value_and_body(secret: str) -> tuple[str, str]:
    """The value without quotes, and its body: what follows a short prefix such as sk_ or ghp_."""
    value = secret.strip().strip("'\"")
    return value, value.split("_", 1)[-1] if "_" in value[:12] else value


def _long_ascending_run(value: str) -> int:
    """The length of the longest run like 'abcdef' or '123456' (each character one past the last) if it
    is at least half the value; else a length below half.

    A run that long holds one of the two middle characters, so only the runs through them are
    measured: a few steps for a random value, where walking all of it cost a Python step per
    character of every value judged (a minute on a crafted line)."""
    n = len(value)
    if n < 2:
        return n
    return max(_ascending_run_through(value, n // 2), _ascending_run_through(value, (n - 1) // 2))


def _ascending_run_through(value: str, i: int) -> int:
    lo = i
    while lo > 0 and ord(value[lo]) == ord(value[lo - 1]) + 1:
        lo -= 1
    hi = i
    while hi + 1 < len(value) and ord(value[hi + 1]) == ord(value[hi]) + 1:
        hi += 1
    return hi - lo + 1


def documented_example(secret: str) -> bool:
    """A value published as an example in a provider's documentation or SDK sources: public, so dropped."""
    return secret in _documented_examples()


@functools.cache
def _documented_examples() -> frozenset[str]:
    # The built-in folder even when SPRAWL_RULES_DIR names the user's own rules: the list is about
    # values, not rules, and a custom rule set should not bring public examples back as findings.
    # Read from the rule cache when the file is unchanged: importing and running a YAML parser cost a
    # pre-commit run with one finding 50 ms (tests/test_filters.py::test_documented_examples_are_cached).
    from scanner.rules import cache

    path = builtin_rules_dir() / "_documented-examples.yaml"
    try:
        st = path.stat()
    except OSError as exc:
        raise RuleError(f"{path}: cannot load the documented examples: {exc}") from None
    key = hashlib.sha256(f"{path}\0{st.st_mtime_ns}\0{st.st_size}".encode()).hexdigest()[:16]
    if (cached := cache.load(key, "documented")) is not None:
        return frozenset(cached)
    import yaml  # here, not at import: a clean pre-commit run never needs it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        values = frozenset(str(v) for entry in data["examples"] for v in entry["values"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise RuleError(f"{path}: cannot load the documented examples: {exc}") from None
    cache.store(key, sorted(values), "documented")
    return values


def example_like(secret: str) -> bool:
    """Marked as an example ("...EXAMPLE..."): probably not live, so lowered."""
    return "EXAMPLE" in secret
