"""The Docker engine, through its CLI: which CLI can build with BuildKit, and the argv of each call.

Every call is an argument list (no shell), so no value read from a file is ever
interpreted by a shell.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set
from aligner.base.errors import ToolError


class EngineError(ToolError):
    """No usable Docker engine: said in one line, with what to do."""


@dataclass(frozen=True)
class Engine:
    cli: str  # path of the docker CLI
    buildx: bool  # `docker buildx` is present: builds go through it
    env: Dict[str, str]  # environment for every call (DOCKER_BUILDKIT for a classic CLI)

    def build_argv(self, dockerfile: str, context: str, tag: str, args: Dict[str, str], platform: Optional[str],
                   secrets: Sequence[str] = (), no_cache: bool = False) -> List[str]:
        argv = [self.cli, "buildx", "build", "--load"] if self.buildx else [self.cli, "build"]
        if no_cache:
            argv.append("--no-cache")
        argv += ["--progress=plain", "-f", dockerfile, "-t", tag]
        if platform:
            argv += ["--platform", platform]
        for k, v in sorted(args.items()):
            argv += ["--build-arg", f"{k}={v}"]
        for s in secrets:
            argv += ["--secret", s]
        return argv + [context]

    def probe_argv(self, tag: str, script: str, spec: str, platform: Optional[str]) -> List[str]:
        # no network, nothing kept: the probes only read what the image holds
        argv = [self.cli, "run", "--rm", "--network", "none", "--entrypoint", "python3"]
        if platform:
            argv += ["--platform", platform]
        return argv + [tag, "-c", script, spec]

    def run(self, argv: List[str], capture_output: bool = False, timeout: Optional[float] = None,
            input=None, **kw) -> subprocess.CompletedProcess:
        """subprocess.run's contract; on Ctrl-C, or `stop_children` from the main thread, the CLI stops too."""
        if capture_output:
            kw["stdout"] = kw["stderr"] = subprocess.PIPE
        if input is not None:
            kw["stdin"] = subprocess.PIPE
        with _lock:
            if _stopping:
                raise KeyboardInterrupt
            proc = subprocess.Popen(argv, env={**os.environ, **self.env}, **kw)
            _children.add(proc)
        try:
            out, err = proc.communicate(input, timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        except BaseException:
            _stop(proc)
            raise
        finally:
            with _lock:
                _children.discard(proc)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


_children: Set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = False
GRACE = 10.0  # seconds a docker CLI gets to cancel its build after SIGINT, as after a Ctrl-C in a terminal


def stop_children() -> None:
    """Stop every running docker CLI (the workers' builds) and start no more: called on Ctrl-C."""
    global _stopping
    with _lock:
        _stopping = True
        running = list(_children)
    for proc in running:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _clis(explicit: Optional[str]) -> List[str]:
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise EngineError(f"docker CLI {explicit!r} (ALIGNER_DOCKER or --docker) is not an executable")
        return [found]
    out = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("docker", path=d) if d else None
        if found and os.path.realpath(found) not in {os.path.realpath(o) for o in out}:
            out.append(found)
    return out


def _client_major(cli: str) -> Optional[int]:
    try:
        text = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"version (\d+)\.", text)
    return int(m.group(1)) if m else None


def _has_buildx(cli: str) -> bool:
    try:
        return subprocess.run([cli, "buildx", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def find(explicit: Optional[str] = None, need_buildx: bool = False) -> Engine:
    """A docker CLI that builds with BuildKit (for `RUN --mount` and `--secret`), and a daemon that answers.

    Preference: a CLI with buildx; else a classic CLI older than 23, whose own
    `DOCKER_BUILDKIT=1 docker build` speaks BuildKit (newer CLIs need buildx).
    """
    explicit = explicit or os.environ.get("ALIGNER_DOCKER")
    clis = _clis(explicit)
    if not clis:
        raise EngineError("no `docker` CLI on PATH: install Docker (or set ALIGNER_DOCKER to its CLI)")
    engine = None
    for cli in clis:
        if _has_buildx(cli):
            engine = Engine(cli, True, {})
            break
    if engine is None and need_buildx:
        raise EngineError(f"`docker buildx` is not installed ({', '.join(clis)}); bake needs it")
    if engine is None:
        for cli in clis:
            major = _client_major(cli)
            if major is not None and major < 23:
                engine = Engine(cli, False, {"DOCKER_BUILDKIT": "1"})
                break
    if engine is None:
        raise EngineError(f"no docker CLI here can build with BuildKit ({', '.join(clis)}): install the buildx "
                          "plugin, or set ALIGNER_DOCKER to a docker CLI that has it")
    try:
        info = engine.run([engine.cli, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=60)
    except subprocess.TimeoutExpired:
        info = None
    if info is None or info.returncode != 0:
        host = os.environ.get("DOCKER_HOST") or "the default socket (DOCKER_HOST is not set)"
        detail = (info.stderr.strip().splitlines() or [""])[-1] if info is not None else "timed out"
        raise EngineError(f"no Docker engine answers at {host}: {detail}")
    return engine
