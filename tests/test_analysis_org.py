"""The generated organisation of benchmarks/org_eval.py, run as a test: five real git repositories with every
case class of issue 18 and their ground truth. Right identity for every strong-link credential, right owner
for all, no wrong link above 0.5, the planted governance rows exact, no identifier ranked, the prod admin key
in the public log first."""
from __future__ import annotations

import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import org_eval  # noqa: E402


def test_the_generated_organisation_meets_every_bar(tmp_path):
    org = org_eval.generate(tmp_path / "org")
    lines, misses = org_eval.evaluate(org)
    assert misses == [], "\n".join(lines + misses)
    assert "ranked first: aws-secret-access-key 80 (the prod admin key)" in lines
    assert any(line.startswith("strong-link credentials with the right identity: 9/9") for line in lines)
