"""`aligner verify --resolve`: uv, against the live index, says whether a lock's Python pins install
together. Versions come from the snapshot (real index metadata), never typed in."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from aligner.know.snapshot import Snapshot
from tests.conftest import ROOT, aligner_cmd, aligner_env

pytestmark = [pytest.mark.live, pytest.mark.network]  # uv reads the real index


def aligner(*args, cwd):
    env = aligner_env(COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*aligner_cmd(), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def test_this_repos_lock_resolves_for_both_platforms(tmp_path):
    report = tmp_path / "resolve.json"
    out = aligner("verify", "--resolve", "--report", str(report), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(report.read_text())
    assert data["ok"] is True
    import tomllib

    lock = tomllib.loads((ROOT / "lock" / "aligner.lock").read_text())
    images = sorted(img["name"] for img in lock["image"])
    assert len(images) == 3
    assert sorted((r["image"], r["platform"]) for r in data["resolve"]) == [
        (name, plat) for name in images for plat in ("linux/amd64", "linux/arm64")]
    for img in lock["image"]:
        for r in (r for r in data["resolve"] if r["image"] == img["name"]):
            for engine in ("vllm", "sglang", "tensorrt-llm"):
                if engine in img["pins"]:
                    assert f"{engine}=={img['pins'][engine]}" in r["requirements"]
    # Ubuntu 24.04's glibc, from rules/os.toml: the base image's tag says ubuntu24.04
    noble = next(r for r in tomllib.loads((ROOT / "rules" / "os.toml").read_text())["os"]
                 if (r["name"], r["version"]) == ("ubuntu", "24.04"))
    assert "ubuntu24.04" in (ROOT / "dockerfiles" / "Dockerfile.base").read_text()
    assert out.stderr.count(f"glibc {noble['glibc']}): ok") == 6


def test_sglangs_wheels_need_the_images_glibc_not_manylinux_2_28():
    """sglang's wheels carry a manylinux tag newer than 2_28 (what the index serves): with the glibc of
    the base image's OS they install, with --glibc 2.28 uv finds none."""
    out = aligner("verify", "--resolve", "--images", "dynamo-sglang", "--platform", "linux/amd64",
                  "--glibc", "2.28", cwd=ROOT)
    assert out.returncode == 1, out.stderr
    assert "no wheels with a matching platform tag" in out.stderr and "sglang" in out.stderr


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
    # python:3.12-slim names no OS in rules/os.toml: manylinux_2_28
    assert "resolve small (linux/amd64, Python 3.12, glibc 2.28): ok" in out.stderr
    assert "resolve small (linux/arm64, Python 3.12, glibc 2.28): ok" in out.stderr


def test_a_lock_that_cannot_resolve_fails_with_uvs_explanation(tmp_path):
    """vllm pins one torch in its own metadata; a lock that pairs it with another cannot install."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "dockerfiles", repo / "dockerfiles")
    shutil.copytree(ROOT / "lock", repo / "lock")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    lock = repo / "lock" / "aligner.lock"
    text = lock.read_text()
    vllm = re.search(r'^vllm = "([^"]+)"$', text, re.M)[1]
    assert text.rindex('name = "dynamo-vllm"') < text.index(f'vllm = "{vllm}"')
    snap = Snapshot.load()
    wanted = [str(r.specifier) for r in snap.release("vllm", vllm).requirements("torch")]
    assert len(wanted) == 1 and wanted[0].startswith("==")
    other = [r.version for r in snap.releases("torch") if f"=={r.version}" != wanted[0]
             and not Version(r.version).is_prerelease][-1]
    head, sep, vllm_image = text.partition('name = "dynamo-vllm"')
    lock.write_text(head + sep + re.sub(r'^torch = "[^"]+"$', f'torch = "{other}"', vllm_image, count=1, flags=re.M))
    report = tmp_path / "resolve.md"
    out = aligner("verify", "--resolve", "--images", "dynamo-vllm", "--platform", "linux/amd64",
                  "--report", str(report), cwd=repo)
    assert out.returncode == 1
    assert re.search(r"resolve dynamo-vllm \(linux/amd64, Python 3\.12, glibc [\d.]+\): FAILS", out.stderr)
    assert "No solution found" in out.stderr  # uv's own words ...
    assert f"vllm=={vllm}" in out.stderr and f"torch=={other}" in out.stderr  # ... about the two pins
    md = report.read_text()
    assert "| dynamo-vllm | linux/amd64 | 3.12 | NO |" in md and "No solution found" in md


def test_a_lock_that_moved_cuda_and_torch_installs(tmp_path):
    """A CUDA 12.4.1 devel base, an arch list and target GPUs that need CUDA 12.8, a torch older than its
    vLLM wants: after `fix --apply` the lock's Python pins install together on Ubuntu 22.04's Python."""
    from tests.cli.test_one_plan import CUDA_MOVES

    d = tmp_path / "repo"
    d.mkdir()
    (d / "Dockerfile").write_text(CUDA_MOVES)
    (d / "aligner.toml").write_text('[images.serve]\ndockerfile = "Dockerfile"\ngpus = ["H100", "B200"]\n')
    assert aligner("fix", "--apply", cwd=d).returncode == 0
    out = aligner("verify", "--resolve", cwd=d)
    assert out.returncode == 0, out.stderr
    import tomllib

    jammy = next(r for r in tomllib.loads((ROOT / "rules" / "os.toml").read_text())["python"]
                 if (r["os"], r["version"]) == ("ubuntu", "22.04"))
    assert out.stderr.count(f"Python {jammy['python']}, glibc") == 2  # amd64 and arm64

