"""Kubernetes ServiceAccounts, Secrets and the workloads that join them.

A ServiceAccount is a `service_account:` identity; a workload-identity annotation (IRSA, GKE, Azure)
means its tokens are short-lived and is recorded as workload_identity. A Secret is a credential at
secret_ref `k8s://namespace/name` whose env_vars are its data keys (never its values). A Deployment,
StatefulSet, DaemonSet, Job, CronJob or Pod ties the Secrets it reads to the ServiceAccount it runs as.
"""
from __future__ import annotations

from scanner.inventory.importers._common import environment_from, fact, owner_ref
from scanner.inventory.loader import parse_yaml, strip_lines
from scanner.inventory.model import Credential, Identity, Inventory

WORKLOAD_IDENTITY_ANNOTATIONS = ("eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account",
                                 "azure.workload.identity/client-id")
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}


def _pod_spec(doc: dict) -> dict:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        return spec
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("spec")) or {}


def _owner(meta: dict) -> str | None:
    labels = meta.get("labels") or {}
    ann = meta.get("annotations") or {}
    ref = ann.get("secret-sprawl.io/owner") or labels.get("owner") or labels.get("team")
    return owner_ref(ref) if ref else None


KUBERNETES_ID = "backstage.io/kubernetes-id"


def read(text: str, name: str, repo: str | None = None) -> Inventory:
    inv = Inventory()
    docs: list[dict] = []
    spans: dict[int, tuple[int, int]] = {}  # id(doc) -> its first and last line in the file
    raw = [x for x in parse_yaml(text, name, all_documents=True) if isinstance(x, dict)]
    starts = [int(x.get("__line__") or 1) for x in raw] + [len(text.splitlines()) + 1]
    for n, x in enumerate(raw):
        d = strip_lines(x)
        if d.get("kind") == "List":
            docs.extend(i for i in d.get("items") or [] if isinstance(i, dict))
        else:
            spans[id(d)] = (starts[n], starts[n + 1] - 1)
            docs.append(d)
    sas: dict[str, Identity] = {}
    secrets: dict[str, Credential] = {}
    for n, doc in enumerate(docs):
        kind = doc.get("kind")
        meta = doc.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        mname = meta.get("name")
        src = f"k8s:{repo + ':' if repo else ''}{name}#{n + 1}"
        labels = meta.get("labels") or {}
        env = environment_from(labels.get("environment"), labels.get("env"), ns)
        if not mname:
            continue
        # The Backstage label names the component this object belongs to: an alias for identity resolution.
        kid = labels.get(KUBERNETES_ID) or (meta.get("annotations") or {}).get(KUBERNETES_ID)
        alias = [f"kubernetes-id:{kid}"] if kid else []
        if kind == "ServiceAccount":
            ident = _sa(sas, inv, ns, mname, src)
            _also(ident, "aliases", alias)
            _also(ident, "declared_in", [f"{repo}:{name}"] if repo else [])
            fact(ident, "owner", _owner(meta), src)
            fact(ident, "environment", env, src)
            ann = meta.get("annotations") or {}
            for key in WORKLOAD_IDENTITY_ANNOTATIONS:
                if ann.get(key):
                    fact(ident, "workload_identity", f"{key}={ann[key]}", src)
            if ident.workload_identity:
                # Federated tokens: minted per pod, expiring within the hour.
                token = Credential(id=f"k8s-token:{ns}/{mname}", type="projected-token", ttl="PT1H",
                                   provider="kubernetes", source=src)
                token.sources.update(ttl=src, type=src)
                inv.credentials.append(token)
                ident.credentials.append(token.id)
        elif kind == "Secret":
            stype = doc.get("type") or "Opaque"
            cred = Credential(id=f"k8s-secret:{ns}/{mname}", source=src)
            fact(cred, "secret_ref", f"k8s://{ns}/{mname}", src)
            fact(cred, "type", stype, src)
            fact(cred, "env_vars", sorted({*(doc.get("data") or {}), *(doc.get("stringData") or {})}), src)
            fact(cred, "provider", (meta.get("labels") or {}).get("provider", ""), src)
            if repo and id(doc) in spans:
                first, last = spans[id(doc)]
                fact(cred, "declared_in", [f"{repo}:{name}#L{first}-L{last}"], src)
            secrets[f"{ns}/{mname}"] = cred
            inv.credentials.append(cred)
            if stype == "kubernetes.io/service-account-token":
                fact(cred, "ttl", "static", src)  # the legacy long-lived token
                sa = (meta.get("annotations") or {}).get("kubernetes.io/service-account.name")
                if sa:
                    _sa(sas, inv, ns, sa, src).credentials.append(cred.id)
        elif kind in _WORKLOADS:
            pod = _pod_spec(doc)
            sa_name = pod.get("serviceAccountName") or pod.get("serviceAccount")
            if sa_name:
                ident = _sa(sas, inv, ns, sa_name, src)
            else:
                ident = Identity(id=f"workload:{ns}/{mname}", kind="workload", source=src)
                inv.identities.append(ident)
            _also(ident, "aliases", alias)
            _also(ident, "declared_in", [f"{repo}:{name}"] if repo else [])
            fact(ident, "environment", ident.environment if ident.environment != "unknown" else env, src)
            if not ident.owner:
                fact(ident, "owner", _owner(meta), src)
            for secret_name, var in _secret_uses(pod):
                key = f"{ns}/{secret_name}"
                used = secrets.get(key)
                if used is None:
                    used = Credential(id=f"k8s-secret:{key}", secret_ref=f"k8s://{key}", source=src)
                    used.sources["secret_ref"] = src
                    secrets[key] = used
                    inv.credentials.append(used)
                if var and var not in used.env_vars:
                    used.env_vars.append(var)
                if used.id not in ident.credentials:
                    ident.credentials.append(used.id)
                    ident.sources["credentials"] = src
    return inv


def _also(ident: Identity, name: str, values: list[str]) -> None:
    mine = getattr(ident, name)
    mine.extend(v for v in values if v not in mine)


def _sa(sas: dict, inv: Inventory, ns: str, name: str, src: str) -> Identity:
    key = f"{ns}/{name}"
    if key not in sas:
        sas[key] = Identity(id=f"service_account:{key}", kind="service_account", source=src)
        inv.identities.append(sas[key])
    return sas[key]


def _secret_uses(pod: dict):
    """(secret name, env var name or None) for every secretKeyRef, envFrom secretRef and secret volume."""
    containers = (pod.get("containers") or []) + (pod.get("initContainers") or [])
    for c in containers:
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef")) or {}
            if ref.get("name"):
                yield ref["name"], e.get("name")
        for e in c.get("envFrom") or []:
            ref = e.get("secretRef") or {}
            if ref.get("name"):
                yield ref["name"], None
    for v in pod.get("volumes") or []:
        secret = v.get("secret") or {}
        if secret.get("secretName"):
            yield secret["secretName"], None
