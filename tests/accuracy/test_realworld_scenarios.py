"""The NVIDIA Dynamo repository at three releases (tests/realworld/cases/dynamo-scenario-*: its pyproject
as the upstream, its container/ Dockerfiles as two images): nothing refused, no lock move that no
constraint forces, no CUDA value rewritten at another precision."""

import re
import shutil
from pathlib import Path

import pytest

from aligner.base._toml import loads

CASES = Path(__file__).parent.parent / "realworld" / "cases"
SCENARIOS = sorted(p for p in CASES.glob("dynamo-scenario-*") if (p / "aligner.toml").exists())
CUDA_VALUE = re.compile(r'CUDA_VERSION="?(\d+\.\d+(?:\.\d+)?)|cuda(\d+\.\d+(?:\.\d+)?)-')


def test_three_releases():
    assert [p.name for p in SCENARIOS] == ["dynamo-scenario-v0.5.1", "dynamo-scenario-v0.7.1",
                                           "dynamo-scenario-v0.9.1"]


@pytest.fixture(params=SCENARIOS, ids=[p.name for p in SCENARIOS])
def locked(request, tmp_path, run_aligner, monkeypatch):
    monkeypatch.setenv("ALIGNER_OFFLINE", "1")
    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    repo = tmp_path / request.param.name
    shutil.copytree(request.param, repo, ignore=shutil.ignore_patterns("expected.toml"))
    result = run_aligner("lock", cwd=repo)
    assert result.returncode == 0, result.stderr  # nothing refused, and one aligned set per image
    return repo, result.stdout + result.stderr


def test_every_move_names_the_constraint_that_forces_it(locked):
    repo, said = locked
    lock = loads((repo / "aligner.lock").read_text())
    for image in lock["image"]:
        for component, why in image["why"].items():
            assert "nothing constrains it" not in why or component not in _pinned_versions(repo, image), \
                f"{image['name']}: {component} moved with no constraint: {why}"


def test_no_cuda_value_is_rewritten_at_another_precision(locked, run_aligner):
    repo, _ = locked
    diff = run_aligner("fix", "--unsafe-fixes", cwd=repo).stdout
    removed = [l for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    added = [l for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    for old, new in zip(removed, added):
        a, b = CUDA_VALUE.search(old), CUDA_VALUE.search(new)
        if a and b:
            va, vb = [x for x in a.groups() if x][0], [x for x in b.groups() if x][0]
            assert va.count(".") == vb.count("."), f"{old!r} -> {new!r}"


def _pinned_versions(repo: Path, image: dict) -> set:
    """Components a Dockerfile of the image pins at a version, read with the reader."""
    from aligner.read.dockerfile import read_file

    return {p.component for f in image["dockerfiles"] for p in read_file(str(repo / f)).pins
            if p.form == "version"}
