#!/usr/bin/env python3
"""Benchmark `aligner lock` with the image's CUDA and Python free to move against the aligner that held
them fixed.

Input: one generated repository of --images (default 50) images, each for linux/amd64 and linux/arm64,
each a Dockerfile of the shape of vLLM's docker/Dockerfile (`FROM nvidia/cuda:<release>-devel-ubuntu22.04`,
a Python that `uv venv --python ${PYTHON_VERSION}` installs, a TORCH_CUDA_ARCH_LIST, one `pip install`
line of torch and vllm) with target GPUs in the config: CUDA and Python are both free to move. The CUDA
releases, Pythons, arch lists, GPUs and vLLM releases cycle, so some images keep their CUDA and Python and
some must move them (a B200 on CUDA 12.6, an arch 10.0 on 12.4, Python 3.9 under vllm 0.12.0).

Peer: the same command of the aligner before CUDA became a variable (by default the parent of the commit
that added rules/cuda_images.toml; `--baseline REV` picks another), installed from `git archive REV` into
a temporary folder. Each run locks a fresh copy (no lock on disk, so every image is resolved). Runs are
paired and interleaved, the order flipping each round; the median of each side and the paired ratio are
reported, for a repository whose images are all aligned already and for one where some must move.

Usage:
    python3 bench/lock_cuda_free.py --out bench/RESULTS.md

Exit status: 0 done, 2 a run failed.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CUDAS = ["12.4.1", "12.6.3", "12.8.1", "12.9.1"]
PYTHONS = ["3.12", "3.9", "3.12", "3.14", "3.11"]
ARCHS = ['"8.0 9.0"', '"9.0 10.0"', '"8.0 8.9 9.0+PTX"', '"9.0 10.0 12.0"']
GPUS = ['["H100"]', '["H100", "B200"]', '["L40S"]', '["B200"]', '["RTX 5090"]']
PINS = ["torch==2.8.0 vllm==0.10.2", "torch==2.7.1 vllm==0.10.2", "torch==2.8.0 vllm==0.11.0", "vllm==0.10.1.1",
        "vllm==0.12.0"]


def write_repo(d: Path, images: int, moving: bool = True) -> None:
    """`moving`: the cycled values above, some of which the lock must move (and the baseline finds no set
    for); else every image already aligned (CUDA 12.8.1, Python 3.12, torch 2.8.0 with vllm 0.10.2), so that
    both sides resolve the same sets and only the cost of the free variables shows."""
    d.mkdir(parents=True)
    cfg = ['platforms = ["linux/amd64", "linux/arm64"]']
    pick = (lambda values, n: values[n % len(values)]) if moving else (lambda values, n: values[0])
    for n in range(images):
        name = f"img{n:03d}"
        (d / name).mkdir()
        (d / name / "Dockerfile").write_text(
            f"FROM nvidia/cuda:{pick(CUDAS[2:], n) if not moving else pick(CUDAS, n)}-devel-ubuntu22.04\n"
            f"ARG PYTHON_VERSION={pick(PYTHONS, n)}\n"
            "RUN uv venv --python ${PYTHON_VERSION} /opt/venv\n"
            f"ENV TORCH_CUDA_ARCH_LIST={pick(ARCHS, n)}\n"
            f"RUN uv pip install {pick(PINS, n)}\n")
        cfg += ["", f"[images.{name}]", f'dockerfile = "{name}/Dockerfile"', f"gpus = {pick(GPUS, n)}"]
    (d / "aligner.toml").write_text("\n".join(cfg) + "\n")


def baseline_rev(given: str | None) -> str:
    if given:
        return given
    added = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", "rules/cuda_images.toml"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    if not added:
        raise SystemExit("error: rules/cuda_images.toml has no commit; give --baseline REV")
    return added[-1] + "^"


def install(rev: str, into: Path) -> Path:
    """aligner of revision `rev`, built from `git archive` and installed into a folder of its own."""
    src = into / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=REPO, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    site = into / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(site), str(src)], check=True, capture_output=True)
    return site


def timed(site: Path | None, template: Path, work: Path) -> float:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(template, work)
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "aligner", "lock"], cwd=work, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if run.returncode not in (0, 1):  # 1: an image with no aligned set is an answer, not a failure
        raise SystemExit(f"error: aligner lock failed ({run.returncode}): {run.stderr[-2000:]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", help="git revision of the aligner to compare with")
    ap.add_argument("--out", type=Path, help="append the results to this Markdown file")
    args = ap.parse_args()
    rev = baseline_rev(args.baseline)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old = install(rev, tmp / "baseline")
        sides = {"now": None, "baseline": old}
        results = {}
        for kind, moving in (("aligned", False), ("moving", True)):
            write_repo(tmp / kind, args.images, moving)
            for name, site in sides.items():  # one untimed run each
                timed(site, tmp / kind, tmp / f"w-{name}")
            times = {name: [] for name in sides}
            for r in range(args.rounds):
                order = list(sides) if r % 2 == 0 else list(reversed(sides))
                for name in order:
                    times[name].append(timed(sides[name], tmp / kind, tmp / f"w-{name}"))
            results[kind] = times
        short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=REPO, capture_output=True, text=True).stdout.strip()
    lines = [
        "", f"## `aligner lock` with CUDA and Python free vs both fixed, {args.images} images × 2 platforms", "",
        "| | |", "|---|---|",
        f"| date | {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC |",
        f"| `uname -srm` | {platform.system()} {platform.release()} {platform.machine()} |",
        f"| CPUs | {os.cpu_count()} |", f"| Python | {platform.python_version()} |",
        f"| baseline | aligner at {short} (CUDA and Python fixed to the image's own) |",
        f"| rounds | {args.rounds} (median reported) |", "",
        "| images | command | median wall | ratio (of medians) | ratio (paired) |", "|---|---|---:|---:|---:|",
    ]
    for kind, times in results.items():
        med = {k: statistics.median(v) for k, v in times.items()}
        paired = statistics.median(n / b for n, b in zip(times["now"], times["baseline"]))
        lines += [f"| {kind} | baseline `aligner lock` | {med['baseline']:.3f} s | 1.00 | 1.00 |",
                  f"| {kind} | `aligner lock`, CUDA and Python free | {med['now']:.3f} s | "
                  f"{med['now'] / med['baseline']:.2f} | {paired:.2f} |"]
    lines += ["", "aligned: every image already aligned, both sides resolve the same sets. moving: CUDA, Python "
              "and pins cycle so that some images must move; the baseline finds no aligned set for those whose "
              "CUDA or Python would have to move, and spends its time failing there."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
