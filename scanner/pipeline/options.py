"""What a scan is asked to do: the library's options, validated where they are built."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.engine.backends import BACKENDS
from scanner.model import confidence_rank
from scanner.sources.filesystem import WalkOptions

if TYPE_CHECKING:
    from scanner.findings.baseline import Baseline
    from scanner.sources.archive import Limits


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Which engine a process builds: the rule files, the matcher backend and whether context runs.

    Worker processes receive it with their work, so they build the same engine as the parent
    (tests/test_backends.py holds the backends' findings equal)."""

    rules_paths: tuple[Path, ...] = ()  # instead of the built-in rules (empty: the built-in rules)
    backend: str = "auto"  # auto | portable | hyperscan
    context: bool = True
    extra_rules: tuple[Path, ...] = ()  # added to those rules; an extra rule with a built-in's id replaces it


@dataclass
class ScanOptions:
    min_confidence: str = "medium"
    jobs: int = 0  # 0: every core
    walk: WalkOptions = field(default_factory=WalkOptions)
    show_secrets: bool = False
    rules_paths: list[Path] | None = None  # instead of the built-in rules
    extra_rules: list[Path] | None = None  # added to the built-in (or given) rules
    use_ignore_files: bool = True
    baseline: Baseline | None = None
    archive_limits: Limits | None = None  # archive-bomb limits; None: the defaults
    progress: Callable[[int, int], None] | None = None  # (bytes done, bytes total), after each file
    engine: str = "auto"  # matcher backend: auto, portable or hyperscan
    context: bool = True  # syntactic context, decoders (False: faster, noisier)
    whole_blobs: bool = False  # git: scan every blob whole, not each version where it differs from another

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)  # ValueError on a name that is no confidence
        if self.engine not in BACKENDS:
            raise ValueError(f"unknown matcher engine {self.engine!r}; choose one of {', '.join(BACKENDS)}")
        if self.jobs < 0:
            raise ValueError("jobs must be 0 (every core) or more")

    @property
    def engine_spec(self) -> EngineSpec:
        return EngineSpec(tuple(self.rules_paths or ()), self.engine, self.context, tuple(self.extra_rules or ()))
