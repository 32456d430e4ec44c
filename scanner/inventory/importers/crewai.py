"""CrewAI agents.yaml: each top-level key is an agent with a role, goal, tools and an llm."""
from __future__ import annotations

from pathlib import PurePosixPath

from scanner.errors import SprawlError
from scanner.inventory.importers._common import fact, slug
from scanner.inventory.loader import parse_yaml, strip_lines
from scanner.inventory.model import Identity, Inventory, Tool


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    doc = strip_lines(parse_yaml(text, name))
    if not isinstance(doc, dict):
        raise SprawlError(f"{name}: a CrewAI agents.yaml maps agent names to their settings")
    inv = Inventory()
    # The crew's project folder: agents.yaml usually sits in src/<crew>/config/.
    folder = PurePosixPath(name).parent
    if folder.name == "config":
        folder = folder.parent
    for agent, spec in doc.items():
        if not isinstance(spec, dict):
            inv.notes.append(f"{name}: agent {agent!r} is not a mapping; skipped")
            continue
        src = f"crewai:{repo + ':' if repo else ''}{name}#{agent}"
        ident = Identity(id=f"agent:{slug(agent)}", kind="agent", source=src)
        fact(ident, "declared_in", [f"{repo}:{name}"] if repo else [], src)
        fact(ident, "purpose", " ".join(str(spec.get("role", "")).split()), src)
        fact(ident, "configs", [name], src)
        fact(ident, "paths", [f"{folder}/**"] if str(folder) != "." else [], src)
        tools = [Tool(name=str(t), system=str(t), via="crewai") for t in spec.get("tools") or []]
        if spec.get("allow_code_execution"):
            tools.append(Tool(name="code_interpreter", system="code-execution", via="crewai"))
        llm = spec.get("llm")
        if llm:
            tools.append(Tool(name=f"llm:{llm}", system=str(llm).split("/", 1)[0], via="llm"))
        fact(ident, "tools", tools, src)
        inv.identities.append(ident)
    return inv
