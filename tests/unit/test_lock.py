"""The Dynamo scenario end to end: lock, --check, explain, graph; conflicts explained.

Every expected version comes from the snapshot (the index's real metadata) or
from the fixture's own upstream pyproject, never typed here.
"""

import html
import json
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.support.repos import copy_repo
from aligner.base import _toml
from aligner.know.snapshot import Snapshot

REPO = Path(__file__).parent.parent / "fixtures" / "repos" / "dynamo"


@pytest.fixture
def repo(tmp_path):
    return copy_repo("dynamo", tmp_path)


def upstream_pin(extra, name):
    doc = _toml.loads((REPO / "upstream" / "pyproject.toml").read_text())
    for line in doc["project"]["optional-dependencies"][extra]:
        req = Requirement(line)
        if req.name == name:
            return req
    raise KeyError(name)


def exact(spec: SpecifierSet) -> str:
    (s,) = list(spec)
    assert s.operator == "=="
    return s.version


def expected():
    """What the lock must say, worked out from the upstream and the snapshot alone."""
    snap = Snapshot.load()
    vllm = exact(upstream_pin("vllm", "vllm").specifier)
    rel = snap.release("vllm", vllm)
    flashinfer = [r for r in rel.requirements("flashinfer-python") if r.marker and r.marker.evaluate({"extra": "flashinfer"})]
    torch = [r for r in rel.requirements("torch") if r.marker is None]
    nixl_range = upstream_pin("vllm", "nixl").specifier
    nixl = max((Version(r.version) for r in snap.releases("nixl")
                if nixl_range.contains(r.version) and not r.yanked
                and {"linux/amd64", "linux/arm64"} <= set(r.platforms)))
    return {"vllm": vllm, "flashinfer-python": exact(flashinfer[0].specifier), "torch": exact(torch[0].specifier),
            "nixl": str(nixl)}


def lock_of(repo):
    return _toml.loads((repo / "lock" / "aligner.lock").read_text())


def test_scenario_lock_chooses_upstream_and_metadata_versions(repo, run_aligner):
    result = run_aligner("lock", cwd=repo)
    assert result.returncode == 0, result.stderr
    images = {i["name"]: i for i in lock_of(repo)["image"]}
    want = expected()
    vllm_img = images["dynamo-vllm"]
    for comp, version in want.items():
        assert vllm_img["pins"][comp] == version, comp
    assert vllm_img["pins"]["python"] == "3.12" and vllm_img["pins"]["cuda"] == "12.8.1"  # the Dockerfile's own
    assert images["dynamo-trtllm"]["pins"]["tensorrt-llm"] == exact(upstream_pin("trtllm", "tensorrt-llm").specifier)
    why = vllm_img["why"]
    assert f"vllm {want['vllm']} [flashinfer] requires flashinfer-python=={want['flashinfer-python']}" in why["flashinfer-python"]
    assert all(why[c] for c in vllm_img["pins"])
    # each change is explained on the way, with the Dockerfile line and the constraint it breaks
    out = result.stdout
    assert f"container/Dockerfile.dynamo-vllm:3 pins vllm 0.11.0, but upstream pyproject.toml, extra vllm pins vllm[flashinfer]=={want['vllm']}" in out
    assert "container/Dockerfile.base:8 pins nixl 0.7.1, but upstream pyproject.toml, extra vllm pins nixl<=0.7.0" in out
    assert "container/Dockerfile.dynamo-vllm:4 leaves flashinfer-python empty" in out


def test_lock_is_deterministic_and_independent_of_the_working_directory(repo, run_aligner, tmp_path):
    assert run_aligner("lock", cwd=repo).returncode == 0
    first = (repo / "lock" / "aligner.lock").read_bytes()
    assert run_aligner("lock", "--config", str(repo / "aligner.toml"), cwd=tmp_path).returncode == 0
    assert (repo / "lock" / "aligner.lock").read_bytes() == first
    assert str(tmp_path) not in first.decode()


def test_check_fails_when_missing_or_after_any_pin_changes(repo, run_aligner):
    missing = run_aligner("lock", "--check", cwd=repo)
    assert missing.returncode == 1 and "missing" in missing.stderr
    assert run_aligner("lock", cwd=repo).returncode == 0
    assert run_aligner("lock", "--check", cwd=repo).returncode == 0
    base = repo / "container" / "Dockerfile.base"
    base.write_text(base.read_text().replace("ARG UCX_REF=v1.19.0", "ARG UCX_REF=v1.18.0"))  # a pin the lock does not move
    stale = run_aligner("lock", "--check", cwd=repo)
    assert stale.returncode == 1 and "stale" in stale.stderr


def test_flashinfer_pin_0_1_8_is_explained(repo, run_aligner):
    vllm = repo / "container" / "Dockerfile.dynamo-vllm"
    vllm.write_text(vllm.read_text().replace('ARG FLASHINF_REF=""', 'ARG FLASHINF_REF="v0.1.8"'))
    want = expected()
    result = run_aligner("explain", "flashinfer-python", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert f"vllm {want['vllm']} [flashinfer] requires flashinfer-python=={want['flashinfer-python']}" in result.stdout
    assert "container/Dockerfile.dynamo-vllm:4 pins flashinfer-python 0.1.8, but" in result.stdout
    would = run_aligner("explain", "flashinfer==0.1.8", cwd=repo)
    assert "flashinfer-python 0.1.8 would not be chosen" in would.stdout
    assert "is not a release on the index" in would.stdout


def test_graph_formats(repo, run_aligner, tmp_path):
    svg = tmp_path / "g.svg"
    result = run_aligner("graph", "--image", "dynamo-vllm", "--format", "svg", "-o", str(svg), cwd=repo)
    assert result.returncode == 0, result.stderr
    text = html.unescape(svg.read_text())
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "flashinfer-python" in text
    data = json.loads(run_aligner("graph", "--image", "dynamo-vllm", "--format", "json", cwd=repo).stdout)
    edges = {(e["source"], e["target"]) for e in data["edges"]}
    assert ("vllm", "flashinfer-python") in edges and ("vllm", "torch") in edges
    dot = run_aligner("graph", "--format", "dot", cwd=repo).stdout
    assert dot.count("digraph") == 2
    tree = run_aligner("graph", cwd=repo)
    assert "nixl" in tree.stdout and "(pinned 0.7.1)" in tree.stdout


def test_conflict_is_explained_as_a_chain_with_provenance(repo, run_aligner):
    want = expected()
    other_torch = next(r.version for r in Snapshot.load().releases("torch") if Version(r.version) > Version(want["torch"]))
    up = repo / "upstream" / "pyproject.toml"
    up.write_text(up.read_text().replace('    "nixl<=0.7.0",\n    "vllm', f'    "nixl<=0.7.0",\n    "torch=={other_torch}",\n    "vllm', 1))
    result = run_aligner("lock", cwd=repo)
    assert result.returncode == 1
    err = result.stderr
    assert "no aligned set of versions for image dynamo-vllm" in err
    assert f"upstream pyproject.toml, extra vllm requires torch=={other_torch}" in err
    assert f"vllm {want['vllm']} requires torch=={want['torch']} (index metadata)" in err
    assert not (repo / "lock" / "aligner.lock").exists()


def test_python_outside_upstream_range_is_a_conflict_naming_the_dockerfile(repo, run_aligner):
    base = repo / "container" / "Dockerfile.base"
    base.write_text(base.read_text().replace("ARG PYTHON_VERSION=3.12", "ARG PYTHON_VERSION=3.13"))
    result = run_aligner("lock", cwd=repo)
    assert result.returncode == 1
    assert "upstream pyproject.toml requires Python >=3.9,<3.13" in result.stderr
    assert "the image's python is 3.13 (container/Dockerfile.base:6)" in result.stderr


def test_a_release_without_an_arm64_wheel_cannot_be_locked_for_arm64(repo, run_aligner):
    snap = Snapshot.load()
    amd64_only = [r for r in snap.releases("vllm") if r.platforms == ("linux/amd64",) and r.requires_dist]
    assert amd64_only, "the snapshot has a vllm release with no arm64 wheel"
    rel = amd64_only[-1]
    up = repo / "upstream" / "pyproject.toml"
    up.write_text(up.read_text().replace('"vllm[flashinfer]==0.10.2"', f'"vllm=={rel.version}"'))
    result = run_aligner("lock", cwd=repo)
    assert result.returncode == 1
    assert f"vllm {rel.version} has no linux/arm64 wheel" in result.stderr


def test_ngc_bundled_torch_against_the_engine_pin(tmp_path, run_aligner):
    from aligner.know import facts

    row = next(r for r in facts.table("ngc.pytorch") if r.get("torch"))
    snap = Snapshot.load()
    engine = next(r for r in reversed(snap.releases("vllm"))
                  if any(str(q.specifier) == f"=={Version(row['torch']).base_version}" for q in r.requirements("torch")))
    (tmp_path / "Dockerfile").write_text(
        f"FROM nvidia/pytorch:{row['release']}-py3\nRUN pip install vllm=={engine.version}\n")
    (tmp_path / "aligner.toml").write_text('[images.app]\ndockerfile = "Dockerfile"\nplatforms = ["linux/amd64"]\n')
    result = run_aligner("lock", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (f"Dockerfile:1, ngc-pytorch {row['release']} bundles it (rules/ngc.toml) pins torch {row['torch']}, "
            f"but vllm {engine.version} requires torch=={Version(row['torch']).base_version}") in result.stdout


def test_a_new_lock_gets_the_umasks_mode_and_a_rewritten_one_keeps_its_own(tmp_path, run_aligner):
    """mkstemp makes owner-only files: the atomic write must not leave a lock unreadable to the team."""
    import os
    import stat

    from tests.support.repos import copy_repo

    d = copy_repo("dynamo", tmp_path)
    old = os.umask(0o022)
    try:
        assert run_aligner("lock", cwd=d).returncode == 0
    finally:
        os.umask(old)
    lock = next(d.rglob("aligner.lock"))
    assert stat.S_IMODE(lock.stat().st_mode) == 0o644
    lock.chmod(0o640)
    lock.write_text(lock.read_text().replace("version = 1", "version = 1\n", 1))
    assert run_aligner("lock", cwd=d).returncode == 0
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640
