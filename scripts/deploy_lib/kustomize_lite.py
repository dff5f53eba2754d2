"""A small, honest subset of `kustomize build`, enough for deploy/k8s.

It renders a kustomization directory without the kustomize binary and supports
exactly the fields deploy/k8s uses:

  resources   files (multi-document YAML) and directories holding a kustomization
  namespace   sets metadata.namespace of namespaced objects (and the namespace of
              ServiceAccount subjects in RoleBindings)
  images      name -> newName / newTag / digest, on containers and initContainers
  replicas    name -> count, on Deployments / StatefulSets / ReplicaSets
  patches     `path` or inline `patch`: RFC 6902 JSON patches (a YAML list of
              operations add/replace/remove, with `target`), or strategic-merge
              patches (a partial object; lists merged by their usual keys)

Anything else (generators, components, remote resources, labels transformers,
`$patch` directives, label selectors in targets) is refused with an error rather
than silently ignored, so a validation never passes on a rendering it did not do.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "replicas", "patches"}
SUPPORTED_TARGET_KEYS = {"kind", "name", "namespace", "group", "version"}
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "RuntimeClass", "PodSecurityPolicy", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}
# Strategic-merge keys of the lists this renderer merges by key (others are replaced).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "volumes": "name", "env": "name", "volumeMounts": "mountPath",
    "imagePullSecrets": "name", "hostAliases": "ip",
}
WORKLOADS_WITH_REPLICAS = {"Deployment", "StatefulSet", "ReplicaSet"}


class KustomizeError(Exception):
    pass


class Doc:
    """One rendered object and the file it came from."""

    def __init__(self, obj: dict, source: str):
        self.obj = obj
        self.source = source

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")

    @property
    def namespace(self) -> str:
        return (self.obj.get("metadata") or {}).get("namespace", "")

    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def find_kustomization(directory: str) -> str:
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def load_yaml_docs(path: str) -> list[Doc]:
    with open(path, encoding="utf-8") as f:
        try:
            objs = list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            raise KustomizeError(f"{path}: invalid YAML: {e}") from e
    docs = []
    for i, obj in enumerate(objs):
        if obj is None:
            continue
        if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
            raise KustomizeError(f"{path}: document {i + 1} is not a Kubernetes object")
        docs.append(Doc(obj, path))
    return docs


def render(directory: str, _stack: tuple = ()) -> list[Doc]:
    directory = os.path.normpath(directory)
    if directory in _stack:
        raise KustomizeError(f"{directory}: kustomization cycle via {' -> '.join(_stack)}")
    kpath = find_kustomization(directory)
    with open(kpath, encoding="utf-8") as f:
        k = yaml.safe_load(f) or {}
    unknown = sorted(set(k) - SUPPORTED_FIELDS)
    if unknown:
        raise KustomizeError(
            f"{kpath}: unsupported field(s) {', '.join(unknown)} "
            "(scripts/deploy_lib/kustomize_lite.py renders only "
            f"{', '.join(sorted(SUPPORTED_FIELDS))})"
        )
    docs: list[Doc] = []
    for entry in k.get("resources") or []:
        if "://" in entry or entry.startswith("github.com/"):
            raise KustomizeError(f"{kpath}: remote resource {entry!r} is not supported")
        p = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(p):
            docs.extend(render(p, _stack + (directory,)))
        elif os.path.isfile(p):
            docs.extend(load_yaml_docs(p))
        else:
            raise KustomizeError(f"{kpath}: resource {entry!r} not found ({p})")

    for i, patch in enumerate(k.get("patches") or []):
        apply_patch(docs, patch, directory, f"{kpath}: patches[{i}]")
    if k.get("namespace"):
        set_namespace(docs, k["namespace"])
    for image in k.get("images") or []:
        set_image(docs, image, kpath)
    for rep in k.get("replicas") or []:
        set_replicas(docs, rep, kpath)
    return docs


# ---------------------------------------------------------------- transformers

def set_namespace(docs: list[Doc], ns: str) -> None:
    for d in docs:
        if d.kind in CLUSTER_SCOPED:
            continue
        d.obj.setdefault("metadata", {})["namespace"] = ns
        if d.kind in ("RoleBinding", "ClusterRoleBinding"):
            for s in d.obj.get("subjects") or []:
                if s.get("kind") == "ServiceAccount":
                    s["namespace"] = ns


def pod_spec(obj: dict) -> dict | None:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if "template" in spec:
        return (spec.get("template") or {}).get("spec")
    return None


def all_containers(obj: dict) -> list[dict]:
    ps = pod_spec(obj) or {}
    return list(ps.get("initContainers") or []) + list(ps.get("containers") or [])


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """name, tag, digest (a registry port's colon is not a tag)."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def set_image(docs: list[Doc], entry: dict, kpath: str) -> None:
    name = entry.get("name")
    if not name:
        raise KustomizeError(f"{kpath}: images entry without name: {entry}")
    extra = set(entry) - {"name", "newName", "newTag", "digest"}
    if extra:
        raise KustomizeError(f"{kpath}: images entry {name}: unsupported {sorted(extra)}")
    matched = False
    for d in docs:
        for c in all_containers(d.obj):
            img = c.get("image", "")
            n, tag, digest = split_image(img)
            if n != name:
                continue
            matched = True
            n = entry.get("newName", n)
            if "digest" in entry:
                c["image"] = f"{n}@{entry['digest']}"
            elif "newTag" in entry:
                c["image"] = f"{n}:{entry['newTag']}"
            else:
                c["image"] = n + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    if not matched:
        raise KustomizeError(f"{kpath}: images entry {name!r} matches no container image")


def set_replicas(docs: list[Doc], entry: dict, kpath: str) -> None:
    name, count = entry.get("name"), entry.get("count")
    if not isinstance(count, int) or count < 0:
        raise KustomizeError(f"{kpath}: replicas entry {name!r}: count must be an integer >= 0")
    hits = [d for d in docs if d.kind in WORKLOADS_WITH_REPLICAS and d.name == name]
    if not hits:
        raise KustomizeError(f"{kpath}: replicas entry {name!r} matches no workload")
    for d in hits:
        d.obj.setdefault("spec", {})["replicas"] = count


# ---------------------------------------------------------------- patches

def target_matches(doc: Doc, target: dict) -> bool:
    if "kind" in target and doc.kind != target["kind"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], doc.name):
        return False
    if "namespace" in target and not re.fullmatch(target["namespace"], doc.namespace):
        return False
    api = doc.obj.get("apiVersion", "")
    group, _, version = api.rpartition("/")
    if "group" in target and target["group"] != group:
        return False
    if "version" in target and target["version"] != version:
        return False
    return True


def apply_patch(docs: list[Doc], patch: dict, directory: str, where: str) -> None:
    if ("path" in patch) == ("patch" in patch):
        raise KustomizeError(f"{where}: exactly one of path / patch is required")
    extra = set(patch) - {"path", "patch", "target", "options"}
    if extra or patch.get("options"):
        raise KustomizeError(f"{where}: unsupported {sorted(extra) or 'options'}")
    target = patch.get("target")
    if target is not None:
        bad = set(target) - SUPPORTED_TARGET_KEYS
        if bad:
            raise KustomizeError(f"{where}: unsupported target key(s) {sorted(bad)}")
    if "path" in patch:
        p = os.path.normpath(os.path.join(directory, patch["path"]))
        if not os.path.isfile(p):
            raise KustomizeError(f"{where}: patch file {p} not found")
        with open(p, encoding="utf-8") as f:
            text = f.read()
        where = f"{where} ({p})"
    else:
        text = patch["patch"]
    try:
        parsed = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        raise KustomizeError(f"{where}: invalid YAML: {e}") from e
    parsed = [x for x in parsed if x is not None]
    if len(parsed) == 1 and isinstance(parsed[0], list):
        if target is None:
            raise KustomizeError(f"{where}: a JSON 6902 patch needs a target")
        hits = [d for d in docs if target_matches(d, target)]
        if not hits:
            raise KustomizeError(f"{where}: target {target} matches nothing")
        for d in hits:
            for op in parsed[0]:
                json6902(d.obj, op, f"{where} on {d.ref()}")
        return
    if len(parsed) != 1 or not isinstance(parsed[0], dict):
        raise KustomizeError(f"{where}: expected one strategic-merge patch document")
    sm = parsed[0]
    if target is None:
        meta = sm.get("metadata") or {}
        target = {"kind": sm.get("kind"), "name": re.escape(meta.get("name", ""))}
    hits = [d for d in docs if target_matches(d, target)]
    if not hits:
        raise KustomizeError(f"{where}: strategic-merge patch matches nothing ({target})")
    for d in hits:
        merged = strategic_merge(d.obj, sm, where)
        merged["metadata"]["name"] = d.name  # a targeted patch never renames
        d.obj.clear()
        d.obj.update(merged)


def strategic_merge(base: Any, patch: Any, where: str, field: str = "") -> Any:
    if isinstance(patch, dict):
        if any(k.startswith("$") for k in patch):
            raise KustomizeError(f"{where}: strategic-merge directives ($patch, ...) are not supported")
        if not isinstance(base, dict):
            return copy.deepcopy(patch)
        out = copy.deepcopy(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = strategic_merge(out[k], v, where, k)
            else:
                out[k] = copy.deepcopy(v)
        return out
    if isinstance(patch, list) and isinstance(base, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        if all(isinstance(x, dict) and key in x for x in base + patch):
            out = copy.deepcopy(base)
            index = {x[key]: i for i, x in enumerate(out)}
            for item in patch:
                if item[key] in index:
                    i = index[item[key]]
                    out[i] = strategic_merge(out[i], item, where)
                else:
                    out.append(copy.deepcopy(item))
            return out
    return copy.deepcopy(patch)


def _pointer(path: str, where: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"{where}: JSON pointer {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(obj: Any, parts: list[str], where: str, path: str) -> Any:
    for p in parts:
        if isinstance(obj, dict) and p in obj:
            obj = obj[p]
        elif isinstance(obj, list) and p.isdigit() and int(p) < len(obj):
            obj = obj[int(p)]
        else:
            raise KustomizeError(f"{where}: path {path} does not exist")
    return obj


def json6902(obj: dict, op: dict, where: str) -> None:
    kind, path = op.get("op"), op.get("path", "")
    if kind not in ("add", "replace", "remove"):
        raise KustomizeError(f"{where}: JSON patch op {kind!r} is not supported")
    parts = _pointer(path, where)
    parent = _walk(obj, parts[:-1], where, path)
    last = parts[-1]
    value = copy.deepcopy(op.get("value"))
    if isinstance(parent, dict):
        if kind in ("replace", "remove") and last not in parent:
            raise KustomizeError(f"{where}: path {path} does not exist")
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and kind == "add":
            parent.append(value)
            return
        if not last.isdigit():
            raise KustomizeError(f"{where}: bad list index in {path}")
        i = int(last)
        if kind == "add" and i <= len(parent):
            parent.insert(i, value)
        elif i >= len(parent):
            raise KustomizeError(f"{where}: path {path} does not exist")
        elif kind == "replace":
            parent[i] = value
        else:
            del parent[i]
    else:
        raise KustomizeError(f"{where}: path {path} does not exist")
