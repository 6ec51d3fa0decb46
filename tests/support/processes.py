"""Real `aligner` processes for the offline, concurrency and interrupt tests, with the fault hooks of
tests/support/hooks/sitecustomize.py on their PYTHONPATH when asked."""

import hashlib
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from tests.conftest import aligner_cmd, aligner_env

HOOKS = str(Path(__file__).parent / "hooks")


def env(**extra: str) -> Dict[str, str]:
    """This checkout's aligner, with tests/support/hooks (and so its fault hooks) first on PYTHONPATH."""
    return aligner_env(COLUMNS="200", NO_COLOR="1", **extra)


def run(*args, cwd, extra: Optional[Dict[str, str]] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*aligner_cmd(), *args], cwd=cwd, capture_output=True, text=True,
                          env=env(**(extra or {})), timeout=timeout)


def start(*args, cwd, extra: Optional[Dict[str, str]] = None, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([*aligner_cmd(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=env(**(extra or {})))


def wait_for(path: Path, timeout: float = 60, proc: Optional[subprocess.Popen] = None) -> None:
    """Until path exists; fails after timeout seconds, or as soon as proc (the process that should make it) ends."""
    stop = time.monotonic() + timeout
    while not path.exists():
        assert proc is None or proc.poll() is None, f"{path} never appeared: the process ended ({proc.returncode})"
        assert time.monotonic() < stop, f"{path} never appeared in {timeout} s"
        time.sleep(0.05)


class Watched:
    """A process started with start(): its stdout and stderr read in threads as they come, so that a test can
    wait for a line on its stderr while it runs (and no pipe fills up)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.out: List[str] = []
        self.err: List[str] = []
        self.closed = 0
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                        for s, b in ((proc.stdout, self.out), (proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _read(self, stream, into: List[str]) -> None:
        for line in stream:
            with self.cond:
                into.append(line)
                self.cond.notify_all()
        with self.cond:
            self.closed += 1
            self.cond.notify_all()

    def wait_for_stderr(self, text: str, timeout: float = 60) -> str:
        """The first stderr line holding text; fails after timeout seconds or when the process closes stderr
        without printing it."""
        def found():
            return next((line for line in self.err if text in line), None)

        with self.cond:
            self.cond.wait_for(lambda: found() is not None or self.closed == 2, timeout=timeout)
            line, said = found(), "".join(self.err)
        assert line is not None, (f"{text!r} never came on stderr "
                                  f"({'the process ended' if self.closed == 2 else f'{timeout} s'}): {said}")
        return line

    def finish(self, timeout: float = 300) -> Tuple[int, str, str]:
        """(exit status, stdout, stderr) once the process has ended."""
        code = self.proc.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout=timeout)
        return code, "".join(self.out), "".join(self.err)


def files(repo: Path) -> Dict[str, str]:
    """Every regular file under repo, by digest."""
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(repo.rglob("*")) if p.is_file() and not p.is_symlink()}


def temporaries(repo: Path):
    return [str(p) for p in repo.rglob("*.tmp")]
