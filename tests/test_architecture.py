"""The shape of the package: stages import only downward (deferred imports counted), reports read only the
model, `import scanner` is the library API, rule behaviour comes from rule data, and the blast radius sees
where a secret was found by what the source read off it (issue 16)."""
from __future__ import annotations

import ast
import io
import tarfile
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import scanner
from scanner.api import analyze_result
from scanner.pipeline.files import scan_paths
from scanner.pipeline.memory import scan_bytes
from scanner.pipeline.options import ScanOptions
from tests.conftest import GITHUB_TOKEN, REPO

PACKAGE = REPO / "scanner"


def _stage(module: str) -> str:
    """scanner.pipeline.git -> pipeline; scanner.model -> model; scanner -> scanner (the API root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "scanner"


def _stage_imports() -> dict[str, set[str]]:
    """Stage -> the stages it imports, every import counted: top-level, deferred into a function, or
    under TYPE_CHECKING."""
    stages = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
              if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        here = _stage(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != "scanner":
                    continue
                there = _stage(target)
                if there != here and (there in stages or there == "scanner"):
                    graph[here].add(there)
    return graph


def test_no_cycle_between_stages_counting_deferred_imports():
    graph = _stage_imports()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"stages import each other in a cycle: {exc.args[1]}")
    assert order.index("model") < order.index("pipeline") < order.index("cli")


def test_reports_read_only_the_model():
    assert _stage_imports()["report"] <= {"model", "rules", "errors", "scanner"}


def test_sources_yield_blobs_and_never_call_the_engine(tmp_path):
    """Sources import nothing of the engine (deferred imports counted): they yield Blobs, whole or as
    chunks of a stream (Blob.part), and the pipeline scans them (scanner.pipeline.blobs)."""
    from scanner.sources.archive import read_file

    assert "engine" not in _stage_imports()["sources"]
    line = f"2026-01-01T00:00:07Z DEBUG token={GITHUB_TOKEN}\n".encode()
    (tmp_path / "app.log").write_bytes(b"2026-01-01T00:00:00Z INFO nothing\n" * 3000 + line)
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        info = tarfile.TarInfo("logs/app.log")
        info.size = len(line)
        tar.addfile(info, io.BytesIO(line))
    (tmp_path / "bundle.tgz").write_bytes(bundle.getvalue())

    whole = read_file(str(tmp_path / "app.log"))
    [blob] = list(whole)
    assert blob.part is None and blob.provenance.media == "log" and blob.scan_as == ""
    streamed = read_file(str(tmp_path / "app.log"), max_size=1 << 10)
    chunks = list(streamed)
    assert [b.part.offset for b in chunks if b.part] == [0] and streamed.result.streamed is False
    member = read_file(str(tmp_path / "bundle.tgz"))
    [blob] = list(member)
    assert (blob.path, blob.scan_as, blob.source) == (f"{tmp_path / 'bundle.tgz'}!logs/app.log", "logs/app.log",
                                                       "archive")
    assert blob.data == line and member.result.archive and member.result.files == 1


def test_import_scanner_gives_the_library_api():
    for name in ["scan_paths", "scan_git", "scan_staged", "scan_bytes", "scan_text", "ScanOptions", "sweep", "Store",
                 "analyze", "list_findings", "explain", "record_scan"]:
        assert callable(getattr(scanner, name)), name
    assert set(scanner.__all__) <= set(dir(scanner))
    with pytest.raises(AttributeError):
        scanner.no_such_name  # noqa: B018


def test_options_are_validated_where_they_are_built():
    with pytest.raises(ValueError, match="unknown confidence"):
        ScanOptions(min_confidence="extreme")
    with pytest.raises(ValueError, match="unknown matcher engine"):
        ScanOptions(engine="turbo")
    with pytest.raises(ValueError, match="unknown confidence"):
        scanner.scan_text("x", min_confidence="loud")


def test_engine_and_context_are_options_not_environment(monkeypatch):
    monkeypatch.setenv("SPRAWL_ENGINE", "turbo")  # the library never reads it
    text = f'import os\nTOKEN = "{GITHUB_TOKEN}"\n'.encode()
    for engine in ("portable", "hyperscan"):
        result = scan_bytes(text, "app.py", ScanOptions(engine=engine, context=False))
        assert [f.rule_id for f in result.findings] == ["github-pat-classic"]


def test_a_custom_rule_set_keeps_generic_secrets_by_role(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    generic = (REPO / "rules" / "generic.yaml").read_text().replace("id: generic-secret-assignment",
                                                                    "id: acme-generic-secret")
    (rules / "generic.yaml").write_text(generic)
    text = b'db_secret = "Zq8vR2mK9xTb4LpW7nYc3HdF"\n'
    default = scan_bytes(text, "settings.py", ScanOptions(min_confidence="low"))
    custom = scan_bytes(text, "settings.py", ScanOptions(min_confidence="low", rules_paths=[rules]))
    assert [f.rule_id for f in default.findings] == ["generic-secret-assignment"]
    assert [f.rule_id for f in custom.findings] == ["acme-generic-secret"]


def _where_found(finding) -> float:
    return finding.analysis.blast_radius.factor("where_found").points


def test_where_found_follows_the_media_kind_the_source_read(tmp_path):
    (tmp_path / "agent").mkdir()
    (tmp_path / "exports").mkdir()
    (tmp_path / "src").mkdir()
    prompt = f"You are the support agent.\nUse the token {GITHUB_TOKEN} for the GitHub API.\n"
    (tmp_path / "agent" / "support.prompt").write_text(prompt)
    chat = ('[{"role": "user", "content": "deploy it"},\n'
            f' {{"role": "assistant", "content": "using token {GITHUB_TOKEN.replace("ghp_u8", "ghp_u9")}"}}]\n')
    (tmp_path / "exports" / "session-7.json").write_text(chat)
    (tmp_path / "src" / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN.replace("ghp_u8", "ghp_u7")}"\n')
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        data = prompt.replace("ghp_u8", "ghp_u6").encode()
        info = tarfile.TarInfo("agent/support.prompt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "bundle.tar.gz").write_bytes(bundle.getvalue())

    result = scan_paths([str(tmp_path)], ScanOptions(min_confidence="low", jobs=1, use_ignore_files=False))
    analyze_result(result)
    by_path = {Path(f.first_location.path.split("!")[0]).name + ("!" if "!" in f.first_location.path else ""): f
               for f in result.findings}
    assert by_path["support.prompt"].first_location.provenance.media == "prompt"
    assert by_path["session-7.json"].first_location.provenance.media == "transcript"
    assert _where_found(by_path["support.prompt"]) == 9
    assert _where_found(by_path["session-7.json"]) == 9
    assert _where_found(by_path["bundle.tar.gz!"]) == 9
    assert _where_found(by_path["app.py"]) == 6  # private source, for contrast


def test_findings_carry_spans_and_redact_text_masks_every_secret(tmp_path):
    key_id, secret = "AKIAQYLPMN5HFIQR7XYZ", "Zx9kQ2vLpW8rT4yB6nM1cF3hJ5sD7gA0eK2uI4oP"
    text = f"deploy with AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY={secret} and {GITHUB_TOKEN}\n"
    path = tmp_path / "notes.env"
    path.write_text(text)
    result = scan_paths([str(path)], ScanOptions(min_confidence="low", jobs=1, show_secrets=True))
    for f in result.findings:
        loc = f.first_location
        assert text.encode()[loc.start:loc.end].decode() == f.secret
    masked = scanner.redact_text(text)
    assert len(masked) == len(text) and key_id not in masked and secret not in masked and GITHUB_TOKEN not in masked
    assert masked.startswith("deploy with AWS_ACCESS_KEY_ID=AKIAQ*")
    with pytest.raises(ValueError):
        scanner.redact_text(text, min_confidence="very")
