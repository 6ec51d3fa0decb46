"""Find Dockerfiles under the paths a user gives."""

from __future__ import annotations

import fnmatch
import os
from typing import Iterable, List, Tuple

from aligner.base.errors import InputError

PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})


def is_dockerfile(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS)


def find(paths: Iterable[str]) -> Tuple[List[str], List[InputError]]:
    """(Dockerfiles found, errors: paths that do not exist, files refused). Files named directly are always
    taken; a Dockerfile found in a directory that is a symlink leading out of that directory is refused."""
    found, errors = [], []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
                for f in sorted(files):
                    if not is_dockerfile(f):
                        continue
                    full = os.path.join(root, f)
                    if os.path.islink(full) and not inside(full, path):
                        errors.append(InputError(full, None, f"is a symlink that leads out of {path} "
                                                              f"(to {os.path.realpath(full)}): not reading it"))
                    else:
                        found.append(full)
        elif os.path.lexists(path):
            found.append(path)
        else:
            errors.append(InputError(path, None, "no such file or directory"))
    seen = set()
    return [f for f in found if not (f in seen or seen.add(f))], errors


def inside(path: str, root) -> bool:
    """Whether path, its symlinks followed, lies under root (its symlinks followed too)."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, top]) == top
