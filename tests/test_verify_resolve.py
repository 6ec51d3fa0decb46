"""`aligner verify --resolve`: uv, against the live index, says whether a lock's Python pins install
together. Versions come from the snapshot (real index metadata), never typed in."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from aligner.snapshot import Snapshot
from tests.conftest import ROOT, aligner_exe

pytestmark = pytest.mark.live


def aligner(*args, cwd):
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([aligner_exe(), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def test_this_repos_lock_resolves_for_both_platforms(tmp_path):
    report = tmp_path / "resolve.json"
    out = aligner("verify", "--resolve", "--report", str(report), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(report.read_text())
    assert data["ok"] is True
    assert sorted((r["image"], r["platform"]) for r in data["resolve"]) == [
        ("dynamo-vllm", "linux/amd64"), ("dynamo-vllm", "linux/arm64")]
    lock = (ROOT / "lock" / "aligner.lock").read_text()
    vllm = re.search(r'^vllm = "([^"]+)"$', lock, re.M)[1]
    assert all(f"vllm=={vllm}" in r["requirements"] for r in data["resolve"])


def small_repo(tmp_path: Path) -> Path:
    """An image that pins one real NIXL release with wheels for both platforms (from the snapshot)."""
    snap = Snapshot.load()
    nixl = [r.version for r in snap.releases("nixl") if {"linux/amd64", "linux/arm64"} <= set(r.platforms)
            and not Version(r.version).is_prerelease and not r.yanked][-1]
    repo = tmp_path / "small"
    repo.mkdir()
    (repo / "Dockerfile").write_text(f"FROM python:3.12-slim\nARG NIXL_VERSION={nixl}\n"
                                     "RUN pip install \"nixl==${NIXL_VERSION}\"\n")
    (repo / "aligner.toml").write_text('[images.small]\ndockerfile = "Dockerfile"\n')
    assert aligner("lock", cwd=repo).returncode == 0
    return repo


def test_a_small_real_lock_resolves(tmp_path):
    repo = small_repo(tmp_path)
    out = aligner("verify", "--resolve", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "resolve small (linux/amd64, Python 3.12): ok" in out.stderr
    assert "resolve small (linux/arm64, Python 3.12): ok" in out.stderr


def test_a_lock_that_cannot_resolve_fails_with_uvs_explanation(tmp_path):
    """vllm pins one torch in its own metadata; a lock that pairs it with another cannot install."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "dockerfiles", repo / "dockerfiles")
    shutil.copytree(ROOT / "lock", repo / "lock")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    lock = repo / "lock" / "aligner.lock"
    text = lock.read_text()
    vllm = re.search(r'^vllm = "([^"]+)"$', text, re.M)[1]
    snap = Snapshot.load()
    wanted = [str(r.specifier) for r in snap.release("vllm", vllm).requirements("torch")]
    assert len(wanted) == 1 and wanted[0].startswith("==")
    other = [r.version for r in snap.releases("torch") if f"=={r.version}" != wanted[0]
             and not Version(r.version).is_prerelease][-1]
    lock.write_text(re.sub(r'^torch = "[^"]+"$', f'torch = "{other}"', text, count=1, flags=re.M))
    report = tmp_path / "resolve.md"
    out = aligner("verify", "--resolve", "--platform", "linux/amd64", "--report", str(report), cwd=repo)
    assert out.returncode == 1
    assert "resolve dynamo-vllm (linux/amd64, Python 3.12): FAILS" in out.stderr
    assert "No solution found" in out.stderr  # uv's own words ...
    assert f"vllm=={vllm}" in out.stderr and f"torch=={other}" in out.stderr  # ... about the two pins
    md = report.read_text()
    assert "| dynamo-vllm | linux/amd64 | 3.12 | NO |" in md and "No solution found" in md
