"""Identity resolution: records that name the same workload become one identity before anything is linked
(DESIGN section 7), so one workload is never counted as two holders of a credential.

Two records are the same workload when one lists the other's id among its `aliases`, when they share an
alias (`kubernetes-id:payments-api`, from a Backstage component's `backstage.io/kubernetes-id` annotation and
a Kubernetes manifest's label), or when they declare the same workload identity subject (the IRSA role ARN
or GKE service account). The same id from two importers is already one entry (scanner.inventory.merge).

The survivor is the first record in inventory order (a hand-kept base comes first); the others fold into it:
lists are united, a scalar the survivor lacks is filled, and the other ids become its aliases
(tests/test_linking.py::test_identity_resolution_merges_aliases_kubernetes_id_and_workload_identity).
"""
from __future__ import annotations

import copy
from dataclasses import fields

from scanner.inventory.model import Identity, Inventory

_SCALARS_KEEP_FIRST = {"id", "kind", "source", "sources", "aliases"}


def workload_subject(value: str | None) -> str | None:
    """`eks.amazonaws.com/role-arn=arn:aws:iam::1:role/x` and `arn:aws:iam::1:role/x` name one subject."""
    if not value:
        return None
    return value.split("=", 1)[1].strip() if "=" in value and "://" not in value.split("=", 1)[0] else value.strip()


def resolve_identities(inv: Inventory) -> Inventory:
    """A copy of the inventory with every group of records naming one workload merged; the input is untouched.
    Returns the inventory itself when nothing merges (the common case costs one pass)."""
    idents = inv.identities
    parent = list(range(len(idents)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the earlier record survives

    by_key: dict[str, int] = {}
    merged_any = False
    for n, ident in enumerate(idents):
        keys = [f"id:{ident.id}"] + [f"id:{a}" if ":" in a else f"alias:{a}" for a in ident.aliases]
        subject = workload_subject(ident.workload_identity)
        if subject:
            keys.append(f"wi:{subject}")
        for key in keys:
            if key in by_key:
                if find(by_key[key]) != find(n):
                    union(by_key[key], n)
                    merged_any = True
            else:
                by_key[key] = n
    if not merged_any:
        return inv
    out = copy.copy(inv)
    out.identities = []
    survivors: dict[int, Identity] = {}
    for n, ident in enumerate(idents):
        root = find(n)
        if root not in survivors:
            survivors[root] = copy.deepcopy(idents[root])
            out.identities.append(survivors[root])
        if root != n:
            _fold(survivors[root], ident)
    return out


def _fold(keep: Identity, other: Identity) -> None:
    probe = Identity(id="", kind=keep.kind)
    for f in fields(Identity):
        name = f.name
        if name in _SCALARS_KEEP_FIRST:
            continue
        mine, theirs = getattr(keep, name), getattr(other, name)
        if isinstance(mine, list):
            for v in theirs:
                if v not in mine:
                    mine.append(v)
        elif (mine == getattr(probe, name) and name not in keep.sources) and theirs != getattr(probe, name):
            setattr(keep, name, copy.deepcopy(theirs))
            keep.sources[name] = other.sources.get(name) or other.source
    for alias in [other.id, *other.aliases]:
        if alias != keep.id and alias not in keep.aliases:
            keep.aliases.append(alias)
