#!/usr/bin/env python3
"""Agent transcripts on a workstation: `sprawl workstation` beside `kingfisher scan` on one generated home.

    python benchmarks/workstation.py [SIZE_MB] [--repeat 3] [--keep DIR] [--seed 23]

Generates a fake home with SIZE_MB (500 by default) of agent transcripts in the clients' own shapes:
Claude Code sessions (~/.claude/projects/<slug>/<uuid>.jsonl: user, assistant and tool_result lines with
file dumps and command output as JSON-escaped strings) and Codex rollouts
(~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl, whose function_call_output is JSON inside a JSON string),
file sizes log-normal around 1.5 MB (20 KB to 24 MB). About one secret per 2 MB is planted, of six
kinds, where transcripts leak them: an `.env` dump in a tool result (after an escaped newline), a bare
token printed by a command (`gh auth token`), a user pasting a key, and a Codex command's output (escaped
twice). Each tool runs `--repeat` times, interleaved (sprawl, kingfisher, sprawl, ...); the table gives the
median wall time, CPU time (user + system, the process and its children) and peak memory (PSS of the
process tree), and recall: a planted secret is recalled when its value appears in the tool's report
(sprawl runs with --show-secrets for this).

    python benchmarks/workstation.py [SIZE_MB] --keep DIR --split

instead runs `scan_workstation` once in this process, with one worker (jobs=1), and prints its CPU seconds
split between the engine (Engine.scan) and the rest (reading, the escape-blanked views, odd lines, roles,
gathering): what is the workstation's own cost, measured on CPU time, not wall (a shared machine).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import ALNUM, available, machine, run, table  # noqa: E402
from _bench import github_token as _github  # noqa: E402
from _bench import random_text as _rand  # noqa: E402

PLANT_EVERY = 2 * 2**20  # one planted secret per 2 MB of transcript, on average
WORDS = ["orders", "billing", "search", "users", "inventory", "payments", "auth", "reports", "export", "ledger",
         "client", "config", "session", "retry", "handler", "schema", "migrate", "worker", "queue", "cache"]


# kind -> (maker, the variable an .env dump names it by)
SECRETS = {
    "github": (_github, "GITHUB_TOKEN"),
    "anthropic": (lambda r: "sk-ant-api03-" + _rand(r, 93, ALNUM + "_-") + "AA", "ANTHROPIC_API_KEY"),
    "openai": (lambda r: "sk-proj-" + _rand(r, 40) + "T3BlbkFJ" + _rand(r, 40), "OPENAI_API_KEY"),
    "stripe": (lambda r: "sk_live_" + _rand(r, 32), "STRIPE_SECRET_KEY"),
    "slack": (lambda r: f"xoxb-{r.randint(10**9, 10**10)}-{r.randint(10**12, 10**13)}-{_rand(r, 24)}",
              "SLACK_BOT_TOKEN"),
    "aws": (lambda r: _rand(r, 40, ALNUM + "/+"), "AWS_SECRET_ACCESS_KEY"),
}


def _code(rng: random.Random, lines: int) -> str:
    """A source file as a read tool prints it: numbered lines, tabs, quotes, backslashes."""
    out = []
    for i in range(1, lines + 1):
        w1, w2, w3 = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        body = rng.choice([f'def {w1}_{w2}(self, {w3}: str) -> dict:', f'    return self.{w1}.get("{w2}", {i})',
                           f'    log.info("{w1} %s done in %d ms", {w2}, {i})', f'    # TODO: {w1} the {w2} before {w3}',
                           f'    path = "C:\\\\{w1}\\\\{w2}"', f'    {w1} = {{"{w2}": [{i}, "{w3}"]}}', ''])
        out.append(f"{i:>6}\t{body}")
    return "\n".join(out)


def _shell(rng: random.Random, lines: int) -> str:
    return "\n".join(rng.choice([f"{rng.choice(WORDS)}/{rng.choice(WORDS)}.py:{rng.randint(1, 900)}: ok",
                                 f"PASSED tests/test_{rng.choice(WORDS)}.py::test_{rng.choice(WORDS)}",
                                 f"-rw-r--r-- 1 dev dev {rng.randint(100, 99999)} Nov 30 {rng.choice(WORDS)}.json",
                                 f"  {rng.choice(WORDS)} = \"{rng.choice(WORDS)}\""]) for _ in range(lines))


def _env_dump(rng: random.Random, secret: str, var: str) -> str:
    lines = [f"{rng.choice(WORDS).upper()}_URL=https://{rng.choice(WORDS)}.internal.example.com",
             f"LOG_LEVEL={rng.choice(['info', 'debug'])}", f"{var}={secret}", f"PORT={rng.randint(3000, 9000)}"]
    return "$ cat .env\n" + "\n".join(lines) + "\n"


class Home:
    """Writes the transcripts and remembers what it planted."""

    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng = root, rng
        self.planted: list[str] = []
        self.budget = rng.expovariate(1 / PLANT_EVERY)  # bytes to write before the next planted secret
        self.results = [_code(rng, rng.randint(20, 400)) for _ in range(60)] + \
                       [_shell(rng, rng.randint(5, 200)) for _ in range(40)]

    def secret(self) -> tuple[str, str]:
        self.budget = self.rng.expovariate(1 / PLANT_EVERY)
        make, var = SECRETS[self.rng.choice(list(SECRETS))]
        value = make(self.rng)
        self.planted.append(value)
        return value, var

    def claude_lines(self, session: str, cwd: str, size: int) -> bytes:
        rng, out, got, n = self.rng, [], 0, 0
        parent = None
        while got < size:
            n += 1
            uid = str(uuid.UUID(int=rng.getrandbits(128)))
            base = {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd,
                    "sessionId": session, "version": "2.0.14", "gitBranch": "main", "uuid": uid,
                    "timestamp": f"2026-11-{rng.randint(1, 30):02}T{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:"
                                 f"{rng.randint(0, 59):02}.{rng.randint(0, 999):03}Z"}
            roll = rng.random()
            plant = self.budget <= 0 and (roll < 0.15 or roll >= 0.45)  # a user line or a tool result
            if roll < 0.15:
                text = f"can you fix the {rng.choice(WORDS)} {rng.choice(WORDS)} in {rng.choice(WORDS)}.py?"
                if plant:
                    value, _var = self.secret()
                    text = f"here is the key for staging: {value} - use it for the {rng.choice(WORDS)} job"
                doc = {**base, "type": "user", "message": {"role": "user", "content": text}}
            elif roll < 0.45:
                doc = {**base, "type": "assistant", "message": {
                    "id": f"msg_{_rand(rng, 24)}", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": f"I'll look at the {rng.choice(WORDS)} module first."},
                                {"type": "tool_use", "id": f"toolu_{_rand(rng, 24)}", "name": rng.choice(["Read", "Bash"]),
                                 "input": {"file_path": f"{cwd}/{rng.choice(WORDS)}/{rng.choice(WORDS)}.py"}}],
                    "usage": {"input_tokens": rng.randint(10, 9000), "output_tokens": rng.randint(10, 900)}}}
            else:
                content = rng.choice(self.results)
                if plant:
                    value, var = self.secret()
                    if rng.random() < 0.5:
                        content = _env_dump(rng, value, var) + content
                    else:  # a bare token printed by a command
                        content = f"$ gh auth token\n{value}\n" if var == "GITHUB_TOKEN" else \
                            f"{content}\nexport {var}='{value}'\n"
                doc = {**base, "type": "user", "message": {"role": "user", "content": [
                    {"tool_use_id": f"toolu_{_rand(rng, 24)}", "type": "tool_result", "content": content}]},
                    "toolUseResult": {"stdout": content[:200], "stderr": "", "interrupted": False}}
            line = json.dumps(doc, separators=(",", ":")) + "\n"
            out.append(line)
            got += len(line)
            self.budget -= len(line)
            parent = uid
        return "".join(out).encode()

    def codex_lines(self, size: int) -> bytes:
        rng, out, got = self.rng, [], 0
        out.append(json.dumps({"timestamp": "2026-11-20T10:00:00.000Z", "type": "session_meta", "payload": {
            "id": str(uuid.UUID(int=rng.getrandbits(128))), "cwd": "/home/dev/api", "cli_version": "0.63.0"}}) + "\n")
        while got < size:
            stamp = f"2026-11-20T{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.000Z"
            roll = rng.random()
            if roll < 0.3:
                payload = {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": f"Running the {rng.choice(WORDS)} tests now."}]}
            elif roll < 0.5:
                payload = {"type": "function_call", "name": "shell", "call_id": f"call_{_rand(rng, 24)}",
                           "arguments": json.dumps({"command": ["bash", "-lc", f"pytest -q tests/{rng.choice(WORDS)}"]})}
            else:
                output = rng.choice(self.results)
                if self.budget <= 0:
                    value, var = self.secret()
                    output = _env_dump(rng, value, var) + output
                payload = {"type": "function_call_output", "call_id": f"call_{_rand(rng, 24)}",
                           "output": json.dumps({"output": output, "metadata": {"exit_code": 0, "duration_seconds": 0.4}})}
            line = json.dumps({"timestamp": stamp, "type": "response_item", "payload": payload},
                              separators=(",", ":")) + "\n"
            out.append(line)
            got += len(line)
            self.budget -= len(line)
        return "".join(out).encode()


def generate(root: Path, size_mb: int, seed: int) -> list[str]:
    """The fake home under root: ~size_mb of transcripts; returns the planted secret values."""
    rng = random.Random(seed)
    home = Home(root, rng)
    target, written, i = size_mb * 2**20, 0, 0
    while written < target:
        size = int(min(24 * 2**20, max(20 * 2**10, rng.lognormvariate(13.9, 1.0))))  # median ~1.1 MB
        size = min(size, target - written)
        if i % 10 < 7:
            project = rng.choice(WORDS)
            session = str(uuid.UUID(int=rng.getrandbits(128)))
            data = home.claude_lines(session, f"/home/dev/{project}", size)
            path = root / ".claude" / "projects" / f"-home-dev-{project}" / f"{session}.jsonl"
        else:
            day = rng.randint(1, 30)
            data = home.codex_lines(size)
            path = (root / ".codex" / "sessions" / "2026" / "11" / f"{day:02}" /
                    f"rollout-2026-11-{day:02}T10-00-00-{uuid.UUID(int=rng.getrandbits(128))}.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
        i += 1
    return home.planted


def recalled(report: Path, planted: list[str]) -> int:
    try:
        text = report.read_text(errors="replace")
    except OSError:
        return 0
    text += json.dumps(text)  # a secret with '/' may be written escaped
    return sum(1 for s in set(planted) if s in text)


def cpu_of(cmd_run) -> tuple[object, float]:
    """Run, and the CPU seconds (user + system) the run's processes used, children included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = cmd_run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def split(home: Path, empty: Path) -> None:
    """CPU seconds of one in-process scan (jobs=1): total, in Engine.scan, and the rest."""
    import time

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from scanner.engine.core import Engine
    from scanner.pipeline.engines import get_engine
    from scanner.pipeline.workstation import WorkstationOptions, scan_workstation

    get_engine()  # the rules loaded before the clock starts, as a worker finds them
    scan, spent = Engine.scan, [0.0]

    def timed(self, *args, **kwargs):
        started = time.process_time()
        try:
            return scan(self, *args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    Engine.scan = timed  # type: ignore[method-assign]
    started = time.process_time()
    report = scan_workstation(WorkstationOptions(home=home, platform="linux", system_root=empty, env={}, jobs=1,
                                                 host="bench", owner="user:bench"))
    total = time.process_time() - started
    Engine.scan = scan  # type: ignore[method-assign]
    print(f"CPU s: total {total:.2f}, engine {spent[0]:.2f} ({spent[0] / total:.0%}), "
          f"the rest {total - spent[0]:.2f}; {len(report.findings)} findings")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size_mb", nargs="?", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder and keep it")
    ap.add_argument("--jobs", type=int, default=0, help="sprawl's worker processes (0: every core)")
    ap.add_argument("--split", action="store_true", help="CPU seconds in the engine and outside it (one process)")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="sprawl-ws-"))
    home, manifest = work / "home", work / "planted.json"
    if manifest.exists():
        planted = json.loads(manifest.read_text())
    else:
        home.mkdir(parents=True, exist_ok=True)
        planted = generate(home, args.size_mb, args.seed)
        manifest.write_text(json.dumps(planted))
    files = [p for p in home.rglob("*.jsonl")]
    mb = sum(p.stat().st_size for p in files) / 2**20
    print(f"home {home}: {len(files)} transcripts, {mb:.0f} MB, {len(set(planted))} planted secrets; {machine()}")

    out, empty = work / "reports", work / "no-system"
    out.mkdir(exist_ok=True)
    empty.mkdir(exist_ok=True)
    if args.split:
        for _ in range(args.repeat):
            split(home, empty)
        return 0
    root = str(Path(__file__).resolve().parent.parent)
    tools = {"sprawl": [sys.executable, "-m", "scanner.cli", "workstation", "--home", str(home), "--platform",
                        "linux", "--system-root", str(empty), "-f", "json", "--show-secrets",
                        "-o", str(out / "sprawl.json"), "--jobs", str(args.jobs)]}
    if available("kingfisher"):
        tools["kingfisher"] = ["kingfisher", "scan", str(home), "--no-validate", "--format", "json",
                               "--output", str(out / "kingfisher.json"), "--no-update-check", "--git-history", "none"]
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in tools}
    for _ in range(args.repeat):  # interleaved, so a busy moment of the shared machine hits both
        for name, cmd in tools.items():
            r, cpu = cpu_of(lambda cmd=cmd, name=name: run(name, cmd, cwd=root))
            if r.returncode not in (0, 1, 200, 205):
                print(f"{name}: exit code {r.returncode}; command: {' '.join(cmd)}", file=sys.stderr)
            runs[name].append((r.seconds, cpu, r.peak_rss))
    rows = []
    for name, got in runs.items():
        wall = statistics.median(g[0] for g in got)
        cpu = statistics.median(g[1] for g in got)
        peak = statistics.median(g[2] for g in got)
        hits = recalled(out / f"{name}.json", planted)
        rows.append([name, f"{wall:.1f}", f"{cpu:.1f}", f"{mb / wall:.1f}", f"{peak / 2**20:.0f}",
                     f"{hits}/{len(set(planted))}", f"{hits / max(1, len(set(planted))):.1%}"])
    print()
    print(table(rows, ["tool", "wall s", "CPU s", "MB/s", "peak MB", "recalled", "recall"]))
    print(f"(median of {args.repeat}, interleaved; every run: "
          + "; ".join(f"{n} " + ", ".join(f"{w:.1f}s" for w, _c, _p in g) for n, g in runs.items()) + ")")
    if args.keep is None:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
