"""Static fact tables: every row names the document it was read from."""

import re
from pathlib import Path

import pytest

from aligner.know import facts
from aligner.know.facts import FactsError, load_file
from aligner.know.versions import normalise


def test_every_row_names_a_source_document():
    tables = facts.tables()
    assert tables, "no fact tables in rules/"
    for key, rows in tables.items():
        for n, row in enumerate(rows, 1):
            # a document's URL, an NVIDIA repository file, or NVIDIA's own compiler package and version
            assert re.search(r"https://\S+|github\.com/NVIDIA/\S+|nvidia-cuda-nvcc-cu\d+ \d", row["source"]), \
                f"{key} row {n}: {row['source']}"


def test_a_row_without_a_source_is_refused():
    with pytest.raises(FactsError, match=r"\[\[pytorch\]\] row 2 has no source"):
        load_file("ngc", '[[pytorch]]\nrelease = "25.01"\nsource = "doc, https://x"\n[[pytorch]]\nrelease = "25.02"\n')


def test_ngc_rows_are_sorted_releases_with_valid_versions():
    for key in ("ngc.pytorch", "ngc.tritonserver", "ngc.cuda-dl-base"):
        rows = facts.table(key)
        releases = [r["release"] for r in rows]
        assert releases == sorted(releases) and len(set(releases)) == len(releases)
        for r in rows:
            assert normalise(r["release"], "calver") == r["release"]
            if "cuda" in r:
                assert normalise(r["cuda"], "cuda") == r["cuda"]


def test_rules_show_prints_fact_tables_and_their_sources(run_aligner):
    result = run_aligner("rules", "show", "ngc.pytorch")
    assert result.returncode == 0
    for row in facts.table("ngc.pytorch"):
        assert row["release"] in result.stdout
    sources = run_aligner("rules", "show", "ngc", "--sources")
    assert sources.returncode == 0
    assert sources.stdout.count("row ") == len(facts.table("ngc.pytorch")) + len(facts.table("ngc.tritonserver")) + len(
        facts.table("ngc.cuda-dl-base"))


def test_gpu_and_cuda_tables_say_what_the_issues_rely_on():
    gpus = {r["name"]: r["compute"] for r in facts.table("gpus.gpu")}
    assert gpus["H100"] == "9.0"  # developer.nvidia.com/cuda-gpus, as rules/gpus.toml cites
    arch = {r["cuda"]: r for r in facts.table("cuda.arch")}
    # 13.0 dropped Maxwell, Pascal and Volta (CUDA 13 release notes, cited in rules/cuda.toml)
    assert "7.0" in arch["12.9"]["compute"] and "7.0" not in arch["13.0"]["compute"]
    assert not arch["12.8"]["family-specific"] and arch["12.9"]["family-specific"]  # `f` targets arrive in 12.9
    drivers = [r["cuda"] for r in facts.table("cuda.driver")]
    assert drivers == sorted(drivers, key=lambda v: tuple(map(int, v.split("."))))


def test_the_os_of_a_base_image_tag_and_its_glibc():
    """Every rules/os.toml row is found from the tag forms images use; the expected glibc is the row's own."""
    from aligner.base import _toml
    from aligner.know.facts import os_of

    rows = _toml.loads((Path(__file__).resolve().parent.parent.parent / "rules" / "os.toml").read_text())["os"]
    for row in rows:
        for name in (row["name"], *row.get("aliases", [])):
            assert os_of(f"nvidia/cuda:13.0.2-devel-{name}{row['version']}")["glibc"] == row["glibc"]
        if row.get("codename"):
            assert os_of(f"python:3.12-slim-{row['codename']}")["glibc"] == row["glibc"]
            assert os_of(f"{row['name']}:{row['codename']}")["glibc"] == row["glibc"]
        assert os_of(f"{row['name']}:{row['version']}")["glibc"] == row["glibc"]
    assert os_of("nvidia/pytorch:25.06-py3") is None and os_of("dynamo-base") is None
    assert os_of("nvidia/cuda:12.8.1-devel-ubuntu24.041") is None
