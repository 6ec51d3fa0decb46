"""Real `aligner` processes for the offline, concurrency and interrupt tests, with the fault hooks of
tests/hooks/sitecustomize.py on their PYTHONPATH when asked."""

import hashlib
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional

from tests.conftest import aligner_cmd, aligner_env

HOOKS = str(Path(__file__).parent / "hooks")


def env(**extra: str) -> Dict[str, str]:
    """This checkout's aligner, with tests/hooks (and so its fault hooks) first on PYTHONPATH."""
    return aligner_env(COLUMNS="200", NO_COLOR="1", **extra)


def run(*args, cwd, extra: Optional[Dict[str, str]] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*aligner_cmd(), *args], cwd=cwd, capture_output=True, text=True,
                          env=env(**(extra or {})), timeout=timeout)


def start(*args, cwd, extra: Optional[Dict[str, str]] = None, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([*aligner_cmd(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=env(**(extra or {})))


def wait_for(path: Path, timeout: float = 60) -> None:
    stop = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < stop, f"{path} never appeared"
        time.sleep(0.05)


def files(repo: Path) -> Dict[str, str]:
    """Every regular file under repo, by digest."""
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(repo.rglob("*")) if p.is_file() and not p.is_symlink()}


def temporaries(repo: Path):
    return [str(p) for p in repo.rglob("*.tmp")]
