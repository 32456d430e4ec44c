"""One engine per EngineSpec per process: rules load and compile once, in the parent and in each worker."""
from __future__ import annotations

from scanner.engine import Engine
from scanner.engine.backends import make_matcher
from scanner.pipeline.options import EngineSpec
from scanner.rules import load_rules

_ENGINES: dict[EngineSpec, Engine] = {}


def get_engine(spec: EngineSpec = EngineSpec()) -> Engine:
    engine = _ENGINES.get(spec)
    if engine is None:
        ruleset = load_rules(list(spec.rules_paths) or None)
        if spec.extra_rules:
            ruleset = ruleset.extended(load_rules(list(spec.extra_rules)))
        matcher = make_matcher(list(ruleset), spec.backend, spec.context)
        engine = _ENGINES[spec] = Engine(ruleset, matcher, context=spec.context)
    return engine
