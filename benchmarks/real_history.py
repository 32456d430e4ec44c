#!/usr/bin/env python3
"""A real multi-thousand-commit history, built from released source: every sdist of a few PyPI projects,
committed in upload order into one repository (one folder per project, each release replacing its folder).

    python benchmarks/real_history.py OUT [--projects boto3,requests,...] [--cache DIR]

The content is what those projects really shipped, version after version (boto3 alone has about 2,000
releases), so the history has the shape real ones have: most commits change a few files of a tree that
grows slowly, with the occasional large change. Nothing is planted; whatever the scanners find there is
what the releases hold (test fixtures with fake keys, mostly). The sdists are downloaded once from the
package index's JSON API into --cache (default ~/.cache/secret-sprawl-bench/sdists) and reused; the
repository is written with `git fast-import` and repacked as a clone would be.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

INDEX = "https://pypi.org/pypi/{name}/json"
DEFAULT_PROJECTS = ("boto3", "requests", "flask", "click", "jinja2", "attrs", "urllib3", "pytest")
MAX_SDIST_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Release:
    project: str
    version: str
    uploaded: int  # seconds since the epoch
    url: str
    filename: str


def releases(project: str) -> list[Release]:
    """Every release of `project` with an sdist, from the index's JSON API."""
    api = INDEX.format(name=project)
    with urllib.request.urlopen(api, timeout=60) as answer:
        doc = json.load(answer)
    found = []
    for version, files in doc["releases"].items():
        for f in files:
            if f["packagetype"] == "sdist" and f["size"] <= MAX_SDIST_BYTES and not f.get("yanked"):
                when = int(datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00")).timestamp())
                found.append(Release(project, version, when, urllib.parse.urljoin(api, f["url"]), f["filename"]))
                break
    return found


def fetch(release: Release, cache: Path) -> Path:
    path = cache / release.filename
    if not path.exists():
        with urllib.request.urlopen(release.url, timeout=120) as answer:
            data = answer.read()
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def members(archive: Path) -> list[tuple[str, bytes]]:
    """(path inside the project, bytes) for every regular file of an sdist, its top folder removed."""
    out = []
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir():
                    out.append((info.filename, z.read(info)))
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if m.isreg():
                    fh = t.extractfile(m)
                    if fh is not None:
                        out.append((m.name, fh.read()))
    cleaned = []
    for name, data in out:
        parts = name.split("/", 1)
        if len(parts) == 2 and parts[1] and ".." not in parts[1].split("/"):
            cleaned.append((parts[1], data))
    return cleaned


def build(repo: Path, projects: tuple[str, ...], cache: Path) -> int:
    cache.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(8) as pool:
        every = sorted((r for rs in pool.map(releases, projects) for r in rs), key=lambda r: (r.uploaded, r.project))
        archives = list(pool.map(lambda r: fetch(r, cache), every))
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = io.BufferedWriter(proc.stdin, 1 << 20)
    commits = 0
    for release, archive in zip(every, archives):
        try:
            files = members(archive)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError):
            continue  # a broken upload: history goes on without it
        message = f"{release.project} {release.version}".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(b"author Release <release@example.test> %d +0000\n" % release.uploaded)
        out.write(b"committer Release <release@example.test> %d +0000\n" % release.uploaded)
        out.write(b"data %d\n%s\n" % (len(message), message))
        out.write(f"D {release.project}\n".encode())
        for name, data in files:
            out.write(f"M 100644 inline {release.project}/{name}\n".encode() + b"data %d\n" % len(data) + data + b"\n")
        commits += 1
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(repo), "repack", "-adfq", "--window=50"], check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True)
    return commits


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--projects", default=",".join(DEFAULT_PROJECTS))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "secret-sprawl-bench" / "sdists")
    args = ap.parse_args()
    if args.out.exists():
        print(f"{args.out} exists; give a new folder", file=sys.stderr)
        return 2
    commits = build(args.out, tuple(p for p in args.projects.split(",") if p), args.cache)
    print(f"built {args.out}: {commits} commits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
