"""What CI users take: the GitHub Action, the example workflow in the README, the container image, and the
package metadata (issue 24)."""
from __future__ import annotations

import re
import shutil
import subprocess
from importlib import metadata

import pytest
import yaml

from tests.conftest import REPO


def test_the_action_parses_and_names_its_inputs():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"path", "since-commit", "min-confidence", "args", "sarif-file", "upload-sarif",
            "fail-on-findings"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    scan = next(s for s in steps if s.get("id") == "scan")
    # Inputs reach the script through the environment, never pasted into it (no script injection).
    assert "${{" not in scan["run"]
    assert "-f sarif" in scan["run"]


def test_the_readme_has_a_workflow_that_uses_the_action():
    readme = (REPO / "README.md").read_text()
    [workflow] = [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "jobs:" in block]
    doc = yaml.safe_load(workflow)
    steps = doc["jobs"]["sprawl"]["steps"]
    assert any("secret-sprawl" in str(step.get("uses", "")) or "<this repository>" in str(step.get("uses", ""))
               for step in steps)
    assert doc["permissions"]["security-events"] == "write"


def test_package_metadata_names_the_license_and_classifiers():
    meta = metadata.metadata("secret-sprawl")
    assert meta["License-Expression"] == "Apache-2.0"
    assert any(c.startswith("Topic :: Security") for c in meta.get_all("Classifier") or [])
    assert "Apache License" in (REPO / "LICENSE").read_text()


def _docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    running = subprocess.run([docker, "info"], capture_output=True, timeout=60)
    return docker if running.returncode == 0 else None


@pytest.mark.skipif(_docker_engine() is None, reason="no Docker engine runs here (the docker client alone cannot build)")
def test_the_container_image_builds_and_scans(tmp_path):
    docker = _docker_engine()
    assert docker is not None
    subprocess.run([docker, "build", "-q", "-t", "secret-sprawl:test", str(REPO)], check=True, timeout=1800)
    (tmp_path / "app.py").write_text('TOKEN = "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"\n')
    res = subprocess.run([docker, "run", "--rm", "-v", f"{tmp_path}:/src", "secret-sprawl:test", "scan", "/src"],
                         capture_output=True, timeout=600)
    assert res.returncode == 1 and b"github-pat-classic" in res.stdout
