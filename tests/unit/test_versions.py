"""Version semantics on the spellings real images use."""

import pytest

from aligner.know import facts
from aligner.know.snapshot import Snapshot
from aligner.know.versions import cuda_minor, cuda_tuple, form, is_commit, normalise, parse, satisfies, torch_cuda


def test_v_prefix_pre_post_and_local():
    assert str(parse("v0.10.2")) == "0.10.2"
    assert parse("1.1.0rc5").is_prerelease
    assert parse("0.5.5.post3").post == 3
    assert parse("2.8.0+cu128").local == "cu128"
    assert normalise("1.1.0-rc5") == "1.1.0rc5"
    assert normalise("0.5.5-post3") == "0.5.5.post3"


def test_pinned_prerelease_satisfies_its_pin_and_ranges():
    assert satisfies("1.1.0rc5", "==1.1.0rc5")
    assert satisfies("1.1.0rc5", ">=1.0")
    assert not satisfies("1.1.0rc5", "==1.1.0")


def test_local_build_of_a_release_satisfies_its_exact_pin():
    assert satisfies("2.8.0+cu128", "==2.8.0")


def test_ngc_torch_build_is_a_prerelease_that_misses_the_engine_pin():
    # the torch an NGC PyTorch container bundles, as rules/ngc.toml records it
    rows = [r for r in facts.table("ngc.pytorch") if "torch" in r]
    assert rows, "rules/ngc.toml has no PyTorch row with a torch version"
    ngc_torch = parse(rows[-1]["torch"])
    assert ngc_torch.is_prerelease and ngc_torch.local
    assert not satisfies(str(ngc_torch), f"=={ngc_torch.base_version}")
    assert satisfies(str(ngc_torch), f">={ngc_torch.public}")


def test_cuda_versions_with_two_or_three_parts_and_compact_tags():
    assert cuda_tuple("12.8") == (12, 8)
    assert cuda_tuple("12.8.1") == (12, 8, 1)
    assert cuda_tuple("129") == (12, 9)
    assert cuda_minor("12.8.1") == cuda_minor("12.8") == "12.8"
    assert normalise("13.0.0", "cuda") == "13.0.0"
    with pytest.raises(ValueError):
        cuda_tuple("latest")


def test_ngc_releases_keep_their_spelling():
    assert normalise("25.06", "calver") == "25.06"
    assert normalise("25.06") == "25.6"  # PEP 440 would drop the zero: why NGC has its own scheme


def test_torch_cuda_from_the_local_label():
    assert torch_cuda("2.8.0+cu128") == "12.8"
    assert torch_cuda("2.9.0+cu130") == "13.0"
    assert torch_cuda("2.8.0") is None
    assert torch_cuda("2.8.0a0+5228986c39") is None


def test_forms():
    assert [form(v) for v in ("", "main", "v0.10.2", "0.10.2", "1a2b3c4", "0" * 40)] == [
        "empty", "moving", "version", "version", "commit", "commit"]
    assert form("0.7.0", op="<=") == "range"
    assert not is_commit("1234567")


def test_every_snapshot_version_parses():
    snap = Snapshot.load()
    for project, releases in snap.projects.items():
        for rel in releases.values():
            assert str(parse(rel.version)) == rel.version, (project, rel.version)
