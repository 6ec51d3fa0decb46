"""Against the real package index (`pytest -m live`): the snapshot is true to it."""

import json

import pytest
from packaging.version import Version

from aligner.know.httpcache import HttpCache
from aligner.know.index import IndexClient
from aligner.know.snapshot import Snapshot, build_project, default_dir
from tests.unit.test_snapshot import pins_of, recorded

pytestmark = [pytest.mark.live, pytest.mark.network]


def test_real_vllm_release_requires_the_flashinfer_its_metadata_says(tmp_path):
    client = IndexClient(cache=HttpCache(tmp_path))
    rel = client.release(client.project("vllm"), Version("0.10.2"))
    _, recorded_dist = recorded("vllm-0.10.2.METADATA")
    want = pins_of(recorded_dist, "flashinfer-python", "flashinfer")
    assert want and pins_of(rel.requires_dist, "flashinfer-python", "flashinfer") == want


@pytest.mark.parametrize("project,since", [("vllm", "0.10.0"), ("nixl", "0.6.0")])
def test_refresh_gives_the_committed_content_for_the_same_releases(tmp_path, project, since):
    live = build_project(IndexClient(cache=HttpCache(tmp_path), max_age=0), project, since)
    committed = {r["version"]: r for r in json.loads((default_dir() / f"{project}.json").read_text())["releases"]}
    same = [r for r in live["releases"] if r["version"] in committed]
    assert len(same) >= 3
    for r in same:
        assert r == committed[r["version"]], r["version"]
    assert Snapshot.load().release(project, same[-1]["version"]) is not None
