"""Find Dockerfiles under the paths a user gives."""

from __future__ import annotations

import fnmatch
import os
from typing import Iterable, List, Tuple

PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*")
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})


def is_dockerfile(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS)


def find(paths: Iterable[str]) -> Tuple[List[str], List[str]]:
    """(Dockerfiles found, paths that do not exist). Files named directly are always taken."""
    found, missing = [], []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
                found += [os.path.join(root, f) for f in sorted(files) if is_dockerfile(f)]
        elif os.path.lexists(path):
            found.append(path)
        else:
            missing.append(path)
    seen = set()
    return [f for f in found if not (f in seen or seen.add(f))], missing
