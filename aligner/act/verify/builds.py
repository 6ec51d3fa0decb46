"""`aligner verify --build`: build every target, run its probes in one container, compare with the lock.

Targets build concurrently (up to `jobs`); each keeps its whole build log in
the logs directory, and a failed build does not stop the others.
"""

from __future__ import annotations

import json
import os
import platform as _platform
import shlex
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Dict, List, Optional

from aligner.act.verify import compare
from aligner.act.verify.docker import Engine
from aligner.act.verify.plan import Target

TAIL = 20  # log lines shown for a failed build


@dataclass
class Result:
    target: Target
    rows: List[compare.Row] = field(default_factory=list)
    error: Optional[str] = None  # the build or the probe run failed
    log: Optional[str] = None
    tail: List[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok is not False for r in self.rows)


def host_platform() -> str:
    machine = _platform.machine().lower()
    return "linux/" + {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def probe_script() -> str:
    return resources.files("aligner.act.verify").joinpath("probe_script.py").read_text("utf-8")


def host_secrets(env: Optional[Dict[str, str]] = None, pip_cert: Optional[str] = None) -> Dict[str, str]:
    """Secret id -> value source of the host's CA bundle and proxies, where set.

    The CA comes from SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE or pip's `cert`
    setting (the first that names a file); proxies from HTTPS_PROXY/HTTP_PROXY.
    """
    env = os.environ if env is None else env
    out: Dict[str, str] = {}
    for var in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        if env.get(var) and os.path.isfile(env[var]):
            out["ca"] = "file:" + env[var]
            break
    if "ca" not in out and pip_cert and os.path.isfile(pip_cert):
        out["ca"] = "file:" + pip_cert
    for name in ("https_proxy", "http_proxy", "no_proxy"):
        value = env.get(name.upper()) or env.get(name)
        if value:
            out[name] = "value:" + value
    return out


class Secrets:
    """`--secret` arguments for the build; a value (a proxy URL) goes through a private file, removed after."""

    def __init__(self, sources: Dict[str, str], passthrough: List[str]):
        self.dir = tempfile.TemporaryDirectory(prefix="aligner-secrets-") if any(
            v.startswith("value:") for v in sources.values()) else None
        self.args = list(passthrough)
        for sid, src in sorted(sources.items()):
            kind, _, value = src.partition(":")
            if kind == "value":
                path = os.path.join(self.dir.name, sid)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(value)
                value = path
            self.args.append(f"id={sid},src={value}")

    def close(self) -> None:
        if self.dir:
            self.dir.cleanup()


def _probe(engine: Engine, t: Target, res: Result, f, cross: bool, status) -> None:
    """Every probe of the image in ONE container start; the answers join the result's rows."""
    status(t, "probing")
    argv = engine.probe_argv(t.tag, probe_script(), json.dumps(t.probes), t.platform if cross else None)
    f.write(b"$ docker run --rm --network none --entrypoint python3 " + t.tag.encode() + b" -c <probes>\n")
    proc = engine.run(argv, capture_output=True, stdin=subprocess.DEVNULL)
    f.write(proc.stdout + proc.stderr)
    try:
        if proc.returncode != 0:
            raise ValueError(f"exit {proc.returncode}")
        found = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])
        res.rows = compare.rows(t.locked, found, t.probes)
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        res.error = f"the probes did not run in {t.tag} ({exc}); does the image have python3?"


def _finish(res: Result, started: float, status) -> Result:
    if res.error and res.log:
        res.tail = Path(res.log).read_bytes().decode("utf-8", "replace").splitlines()[-TAIL:]
    res.seconds = time.monotonic() - started
    status(res.target, "failed" if res.error else ("ok" if res.ok else "mismatch"))
    return res


def run_target(engine: Engine, t: Target, root: Path, logs: Path, secrets: List[str],
               status: Callable[[Target, str], None], no_cache: bool = False) -> Result:
    started = time.monotonic()
    log = logs / f"{t.name}.log"
    res = Result(t, log=str(log))
    cross = t.platform != host_platform()
    with open(log, "wb") as f:
        for i, step in enumerate(t.steps, 1):
            status(t, f"building {step.dockerfile}" + (f" ({i}/{len(t.steps)})" if len(t.steps) > 1 else ""))
            argv = engine.build_argv(str(root / step.dockerfile), str(root / t.context), step.tag, step.args,
                                     t.platform if cross else None, secrets, no_cache=no_cache)
            f.write(b"$ " + " ".join(shlex.quote(a) for a in argv).encode() + b"\n")
            f.flush()
            proc = engine.run(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root)
            if proc.returncode != 0:
                res.error = f"build of {step.dockerfile} failed (exit {proc.returncode})"
                break
        if res.error is None:
            _probe(engine, t, res, f, cross, status)
    return _finish(res, started, status)


def run(engine: Engine, targets: List[Target], root: Path, logs: Path, jobs: int, secrets: List[str],
        status: Callable[[Target, str], None], no_cache: bool = False) -> List[Result]:
    logs.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def said(t: Target, text: str) -> None:
        with lock:
            status(t, text)

    for t in targets:
        said(t, "queued")
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [pool.submit(run_target, engine, t, root, logs, secrets, said, no_cache) for t in targets]
        return [f.result() for f in futures]
    except KeyboardInterrupt:  # only the main thread hears Ctrl-C: stop the workers' builds, start no more
        pool.shutdown(wait=False, cancel_futures=True)
        from aligner.act.verify.docker import stop_children

        stop_children()
        raise
    finally:
        pool.shutdown(wait=True)


def run_bake(engine: Engine, targets: List[Target], root: Path, logs: Path, secrets: List[str],
             status: Callable[[Target, str], None]) -> List[Result]:
    """One `docker buildx bake --load` of every target (the builder runs them in parallel), then the probes."""
    from aligner.act.verify import bake

    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "docker-bake.json"
    path.write_text(bake.dumps(targets, secrets), "utf-8")
    log = logs / "bake.log"
    for t in targets:
        status(t, "baking")
    with open(log, "wb") as f:
        argv = [engine.cli, "buildx", "bake", "--load", "--progress=plain", "-f", str(path)] + [t.name for t in targets]
        f.write(b"$ " + " ".join(shlex.quote(a) for a in argv).encode() + b"\n")
        f.flush()
        rc = engine.run(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root).returncode
    if rc != 0:
        tail = log.read_bytes().decode("utf-8", "replace").splitlines()[-TAIL:]
        for t in targets:
            status(t, "failed")
        return [Result(t, error=f"docker buildx bake failed (exit {rc})", log=str(log), tail=tail) for t in targets]
    out = []
    for t in targets:
        started = time.monotonic()
        res = Result(t, log=str(logs / f"{t.name}.log"))
        with open(res.log, "wb") as f:
            _probe(engine, t, res, f, t.platform != host_platform(), status)
        out.append(_finish(res, started, status))
    return out
