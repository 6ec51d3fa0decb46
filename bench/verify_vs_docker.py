"""Benchmark: `aligner verify --build` against plain `docker build` + one `docker run` per image.

Three small images (tests/fixtures/repos/verify, plus a third written here),
every build with --no-cache so that each round does the same work. The peer
runs exactly the builds verify runs (the same Dockerfiles, build args, tags and
CA secret, taken from aligner's own build plan) one after another, then one
`docker run` per image that prints the versions. aligner runs with --jobs 1
(the same sequence, plus its probes and report) and with --jobs 3.

    sudo sh tests/setup-machine.sh      # an engine and the local base image
    python3 bench/verify_vs_docker.py [--rounds 3]

Prints a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

THIRD = """ARG BASE_IMAGE=aligner-test-base:bookworm
FROM ${BASE_IMAGE}
ARG PYTHON_VERSION=3.11
ARG TOMLI_VERSION=2.0.1
RUN --mount=type=secret,id=ca \\
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \\
    pip install --no-cache-dir --break-system-packages "tomli==${TOMLI_VERSION}"
"""


def repo(tmp: Path) -> Path:
    dst = tmp / "repo"
    shutil.copytree(ROOT / "tests" / "fixtures" / "repos" / "verify", dst)
    (dst / "Dockerfile.more").write_text(THIRD)
    with open(dst / "aligner.toml", "a") as f:
        f.write('\n[images.more]\ndockerfile = "Dockerfile.more"\nplatforms = ["linux/amd64"]\n')
    subprocess.run(["aligner", "lock"], cwd=dst, check=True, capture_output=True)
    return dst


def peer(root: Path, secrets) -> float:
    """Plain docker: the same builds in sequence, then one `docker run` per image."""
    from aligner.read import config
    from aligner.decide import lock
    from aligner.act.verify import builds, docker, plan

    cfg = config.load(root / "aligner.toml")
    engine = docker.find()
    targets = plan.targets(lock.read(cfg.lock_path()), root, cfg.catalog(), {}, platforms=[builds.host_platform()])
    started = time.perf_counter()
    for t in targets:
        for step in t.steps:
            argv = engine.build_argv(str(root / step.dockerfile), str(root), step.tag, step.args, None, secrets,
                                     no_cache=True)
            engine.run(argv, check=True, capture_output=True)
        code = "import importlib.metadata as m\nfor d in ('packaging', 'tomli'):\n    try: print(m.version(d))\n" \
               "    except m.PackageNotFoundError: pass"
        engine.run([engine.cli, "run", "--rm", t.tag, "python3", "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def aligner(root: Path, jobs: int) -> float:
    started = time.perf_counter()
    out = subprocess.run(["aligner", "verify", "--build", "--no-cache", "--host-secrets", "--jobs", str(jobs)],
                         cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"aligner verify failed:\n{out.stdout}\n{out.stderr}")
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from aligner.know import indexurl
    from aligner.act.verify import builds

    sources = builds.host_secrets(pip_cert=indexurl.cert())
    secrets = [f"id=ca,src={sources['ca'][5:]}"] if "ca" in sources else []
    with tempfile.TemporaryDirectory() as tmp:
        root = repo(Path(tmp))
        aligner(root, 3)  # untimed: the base image's layers are read once
        times = {"docker build + run": [], "verify --jobs 1": [], "verify --jobs 3": []}
        for i in range(args.rounds):
            order = list(times) if i % 2 == 0 else list(reversed(times))
            for name in order:
                if name.startswith("docker"):
                    times[name].append(peer(root, secrets))
                else:
                    times[name].append(aligner(root, int(name[-1])))
    med = {k: statistics.median(v) for k, v in times.items()}
    docker_v = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              text=True).stdout.strip()
    print(f"### verify vs plain docker, {datetime.date.today().isoformat()}\n")
    print(f"{platform.uname().system} {platform.uname().release} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Docker engine {docker_v}, {args.rounds} rounds (median), 3 images (4 builds), --no-cache\n")
    print("| run | median s | all rounds s |\n|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {med[k]:.1f} | {', '.join(f'{x:.1f}' for x in v)} |")
    print(f"\nverify --jobs 1 / plain docker: {med['verify --jobs 1'] / med['docker build + run']:.2f}×; "
          f"--jobs 3 / --jobs 1: {med['verify --jobs 3'] / med['verify --jobs 1']:.2f}×")


if __name__ == "__main__":
    main()
