"""The committed snapshot: deterministic, complete, and true to the index metadata."""

import json
from aligner.base import _toml as tomllib  # tomllib, or tomli before Python 3.11
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from aligner.know.components import catalog
from aligner.know.httpcache import HttpCache
from aligner.know.index import IndexClient, parse_metadata
from aligner.know.snapshot import Snapshot, build_project, default_dir, dumps
from tests.support.pep691_server import Index

ROOT = Path(__file__).resolve().parent.parent.parent
RECORDED = Path(__file__).parent.parent / "fixtures" / "index"


def recorded(name):
    return parse_metadata((RECORDED / name).read_text())


def pins_of(requirements, dist, extra=None):
    out = []
    for req in requirements:
        req = Requirement(req) if isinstance(req, str) else req
        if canonicalize_name(req.name) != canonicalize_name(dist):
            continue
        marker_extra = req.marker is not None and "extra" in str(req.marker)
        if (extra is None and not marker_extra) or (extra and req.marker and req.marker.evaluate({"extra": extra})):
            out.append(str(req.specifier))
    return out


def test_every_index_project_has_a_canonical_file():
    for comp in catalog().indexed():
        for project in comp.index:
            path = default_dir() / f"{project}.json"
            data = path.read_bytes()
            record = json.loads(data)
            assert dumps(record) == data, f"{path.name} is not in canonical form"
            versions = [Version(r["version"]) for r in record["releases"]]
            assert versions == sorted(versions) and versions
            assert all(v >= Version(comp.since) and not v.is_devrelease for v in versions)


def test_snapshot_agrees_with_recorded_metadata():
    snap = Snapshot.load()
    for fixture, project, version in [("vllm-0.10.2.METADATA", "vllm", "0.10.2"),
                                      ("sglang-0.5.5.post3.METADATA", "sglang", "0.5.5.post3"),
                                      ("torch-2.8.0.METADATA", "torch", "2.8.0")]:
        requires_python, requires_dist = recorded(fixture)
        rel = snap.release(project, version)
        assert rel.requires_python == requires_python
        for dist in ("torch", "flashinfer-python", "nvidia-cuda-runtime-cu12"):
            for extra in (None, "flashinfer"):
                assert pins_of(rel.requires_dist, dist, extra) == pins_of(requires_dist, dist, extra), (project, dist)


def test_every_vllm_release_pins_one_torch_and_says_which_flashinfer():
    snap = Snapshot.load()
    releases = [r for r in snap.releases("vllm") if r.requires_dist is not None]
    assert len(releases) >= 30
    for rel in releases:
        torch = pins_of(rel.requires_dist, "torch")
        assert len(torch) == 1 and torch[0].startswith("=="), (rel.version, torch)
        flashinfer = pins_of(rel.requires_dist, "flashinfer-python") + pins_of(rel.requires_dist, "flashinfer-python", "flashinfer")
        assert len(set(flashinfer)) <= 1, (rel.version, flashinfer)
    with_flashinfer = [r for r in releases if pins_of(r.requires_dist, "flashinfer-python", "flashinfer")]
    assert with_flashinfer, "no vllm release in the snapshot names flashinfer"


def test_torch_wheels_say_their_cuda():
    snap = Snapshot.load()
    rel = snap.release("torch", "2.8.0")
    runtime = pins_of(rel.requires_dist, "nvidia-cuda-runtime-cu12")
    assert runtime == pins_of(recorded("torch-2.8.0.METADATA")[1], "nvidia-cuda-runtime-cu12")


def test_build_is_deterministic_and_keeps_only_what_aligner_needs(tmp_path):
    meta = (RECORDED / "vllm-0.10.2.METADATA").read_text()
    with Index() as idx:
        idx.add_file("vllm", "vllm-0.10.2-cp38-abi3-manylinux1_x86_64.whl", b"a", meta)
        idx.add_file("vllm", "vllm-0.10.2.tar.gz", b"b")
        idx.add_file("vllm", "vllm-0.11.0.dev3-py3-none-any.whl", b"c", meta)
        idx.add_file("vllm", "vllm-0.7.0-py3-none-any.whl", b"d", meta)
        idx.add_file("vllm", "vllm-0.10.1-py3-none-any.whl", b"e", meta, yanked=True)
        c = IndexClient(idx.url, cache=HttpCache(tmp_path / "c"), backoff=0.01)
        first = dumps(build_project(c, "vllm", "0.8.0"))
        again = dumps(build_project(IndexClient(idx.url, cache=HttpCache(tmp_path / "d")), "vllm", "0.8.0"))
    assert first == again
    record = json.loads(first)
    assert [r["version"] for r in record["releases"]] == ["0.10.1", "0.10.2"]
    newest = record["releases"][-1]
    kept = {canonicalize_name(Requirement(r).name) for r in newest["requires-dist"]}
    assert {"torch", "flashinfer-python", "xformers", "torchvision", "torchaudio"} <= kept
    # what it keeps, from rules/components.toml itself: the pip names of the components and [snapshot] keep
    rules = tomllib.loads((ROOT / "rules" / "components.toml").read_text())
    wanted = {canonicalize_name(n) for c in rules["component"].values() for n in c.get("pip", ())}
    wanted |= {canonicalize_name(n) for n in rules["snapshot"]["keep"]}
    named = {canonicalize_name(Requirement(line.split(":", 1)[1]).name)
             for line in meta.splitlines() if line.startswith("Requires-Dist:")}
    assert kept == named & wanted
    assert named - wanted >= {"numpy", "regex", "transformers"}, "the metadata names more than aligner keeps"
    assert newest["sdist"] is True and newest["platforms"] == ["linux/amd64"]
    assert record["releases"][0]["yanked"] is True
