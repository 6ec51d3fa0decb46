"""Which builds make which configured Dockerfile, and the build arguments they pass it.

An image names its sources (`build-args = ["container/build.sh"]`), or they are found: every shell
script of the repository (`*.sh`, skipping hidden, vendored and virtualenv folders) whose build command
builds one of the image's Dockerfiles. A script's `-f` is read as the script would be run: from the
repository root, from the script's own folder, or from the build context it names; a path only partly
known (`${SOURCE_DIR}/Dockerfile.vllm`) matches by its known end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from aligner.read.buildargs import bake, compose, makefile, script, workflow
from aligner.read.buildargs.model import BuildArg, Invocation
from aligner.read.discover import SKIP_DIRS
from aligner.read.dockerfile.lexer import Source
from aligner.read.dockerfile.traced import Traced
from aligner.base.errors import InputError

MAX_SCRIPTS = 500  # a repository with more shell scripts than this is not searched: name the sources instead


@dataclass
class Given:
    """What the builds of one Dockerfile pass it."""

    args: Dict[str, Traced] = field(default_factory=dict)
    sources: Dict[str, Source] = field(default_factory=dict)  # by the path the pins name
    # (name, the value taken, another value a second build passes, where that one is written)
    disagree: List[Tuple[str, BuildArg, BuildArg]] = field(default_factory=list)
    errors: List[InputError] = field(default_factory=list)  # named sources that could not be read


def scripts(root: Path) -> List[str]:
    """The shell scripts, Compose files, GitHub workflows and GitLab CI files of the repository, relative to
    the root, in a stable order."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and d != ".venv")
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in sorted(files)
                if f.endswith(".sh") or compose.is_compose(f) or makefile.is_makefile(f) or bake.is_bake(f)]
        if len(out) > MAX_SCRIPTS:
            return []
    flows = root / ".github" / "workflows"
    if flows.is_dir():
        out += sorted(os.path.relpath(p, root) for p in flows.iterdir() if p.is_file() and workflow.is_workflow(str(p)))
    if (root / ".gitlab-ci.yml").is_file():
        out.append(".gitlab-ci.yml")
    if (root / ".gitlab").is_dir():
        out += sorted(os.path.relpath(p, root) for p in (root / ".gitlab").rglob("*.y*ml")
                      if p.is_file() and workflow.is_gitlab(str(p)))
    return out


def builds(inv: Invocation, dockerfile: str, root: Path) -> bool:
    """Whether the build `inv` (read from a file under `root`) builds the Dockerfile at `dockerfile`."""
    target = os.path.realpath(dockerfile)
    if inv.partial:
        return bool(inv.dockerfile) and target.endswith(os.sep + inv.dockerfile.lstrip("/").replace("/", os.sep))
    here = os.path.dirname(os.path.realpath(inv.path))
    bases = [str(root), here]
    if inv.context:
        bases += [os.path.join(b, inv.context) for b in (str(root), here)]
    name = inv.dockerfile
    if name is None:  # no -f: the context's Dockerfile
        if not inv.context:
            return False
        return any(os.path.realpath(os.path.join(b, inv.context, "Dockerfile")) == target for b in (str(root), here))
    return any(os.path.realpath(os.path.join(b, name)) == target for b in bases)


def given(dockerfile: str, sources: List[str], read: Callable[[str], bytes], root: Path, named: bool = True) -> Given:
    """The build arguments that the builds in `sources` (paths) pass to `dockerfile`; the first build that
    passes a name decides its value, and another that passes a different one is recorded. A source that
    cannot be read is an error when the config names it; one found by searching is passed over (it may
    build nothing)."""
    out = Given()
    for path in sources:
        try:
            data = read(path)
            env, env_source = _dotenv(path, read) if compose.is_compose(path) else ({}, None)
            builds_of = compose.read(path, data, env) if compose.is_compose(path) else \
                workflow.read(path, data) if workflow.is_workflow(path) else \
                makefile.read(path, data) if makefile.is_makefile(path) else \
                bake.read(path, data) if bake.is_bake(path) else script.read(path, data)
            found = [inv for inv in builds_of if builds(inv, dockerfile, root)]
        except InputError as exc:
            if named:
                out.errors.append(exc)
            continue
        if not found:
            continue
        out.sources[path] = script.source(path, data)
        if env_source is not None:
            out.sources[env_source.path] = env_source
        for inv in found:
            for arg in inv.args:
                first = _first(out, arg.name)
                if first is None:
                    out.args[arg.name] = arg.value
                    out.disagree.append((arg.name, arg, arg))  # the one taken, kept to report against
                elif first.value.text != arg.value.text:
                    out.disagree.append((arg.name, first, arg))
    out.disagree = [d for d in out.disagree if d[1] is not d[2]]
    return out


def _dotenv(path: str, read):
    """What the .env beside a Compose file sets, and its decoded source; a missing one sets nothing."""
    env_path = os.path.join(os.path.dirname(path), ".env")
    if not os.path.isfile(env_path):
        return {}, None
    data = read(env_path)
    return compose.dotenv(env_path, data), script.source(env_path, data)


def _first(out: Given, name: str) -> Optional[BuildArg]:
    return next((taken for n, taken, other in out.disagree if n == name and taken is other), None)
