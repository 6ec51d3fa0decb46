"""examples/kvcache-images end to end, through this checkout's CLI.

Every expected version is derived here from the example's own inputs (its
upstream pyproject and Dockerfiles) and from the releases' metadata in
rules/snapshot, never copied from aligner's output.
"""

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.example_docs import blocks, run_all
from tests.support.example_facts import (
    EXAMPLES, arg, by_place, check, copy_example, line_of, releases, safe_fix_changes_nothing,
    upstream_pin as upstream_pin_of,
)


EXAMPLE = EXAMPLES / "kvcache-images"


def upstream_pin(extra: str, name: str):
    return upstream_pin_of(EXAMPLE, extra, name)
VLLM_DF, SGLANG_DF = "Dockerfile.vllm-kvcache", "Dockerfile.sglang-kvcache"


def line_holding(path, text: str) -> int:
    """The one line of the file that holds `text` anywhere."""
    (n,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return n


def required(project: str, version: str, name: str) -> str:
    """The one version `project==version` pins `name` to (no extra), from its Requires-Dist."""
    (rel,) = [r for r in releases(project) if r["version"] == version]
    for line in rel["requires-dist"]:
        req = Requirement(line)
        if req.name.replace("_", "-") == name and (req.marker is None or req.marker.evaluate({"extra": ""})):
            (spec,) = req.specifier
            assert spec.operator == "==", line
            return spec.version
    raise AssertionError(f"{project} {version} does not pin {name}")


def torch_cuda(torch: str) -> str:
    """major.minor of the CUDA runtime torch's wheels require (nvidia-cuda-runtime-cu12==X.Y.Z)."""
    return ".".join(required("torch", torch, "nvidia-cuda-runtime-cu12").split(".")[:2])


def tag_parts(tag: str) -> dict:
    """v0.10.2-aibrix-v0.5.0-nixl-0.7.1-20251123 -> engine, aibrix, nixl, date."""
    engine, rest = tag.split("-aibrix-")
    aibrix, rest = rest.split("-nixl-")
    nixl, date = rest.split("-")
    return {"engine": engine.lstrip("v"), "aibrix": aibrix.lstrip("v"), "nixl": nixl, "date": date}


def newest_within(project: str, req: Requirement) -> str:
    return str(max(Version(r["version"]) for r in releases(project) if req.specifier.contains(r["version"])))


@pytest.fixture
def repo(tmp_path):
    return copy_example(EXAMPLE, tmp_path)



def test_check_finds_every_misalignment_and_nothing_else(repo, run_aligner):
    vdf, sdf = repo / VLLM_DF, repo / SGLANG_DF
    sglang = arg(sdf, "SGLANG_VERSION").lstrip("v")
    torch_pin = arg(sdf, "TORCH_VERSION")
    engine_torch = required("sglang", sglang, "torch")
    nixl_vllm = arg(vdf, "NIXL_VERSION")
    nixl_sglang_line = line_of(sdf, "RUN python3 -m pip install nixl==")
    nixl_sglang = sdf.read_text().splitlines()[nixl_sglang_line - 1].split("nixl==")[1].split()[0]
    tag = tag_parts(arg(vdf, "IMAGE_TAG"))
    aibrix = arg(vdf, "AIBRIX_BRANCH").lstrip("v")
    # the vLLM image is aligned where the SGLang one is not: its builder CUDA is its engine's torch's CUDA
    vllm = arg(vdf, "VLLM_VERSION").lstrip("v")
    assert arg(vdf, "CUDA_VERSION") == torch_cuda(required("vllm", vllm, "torch"))
    assert vllm in upstream_pin("vllm", "vllm").specifier and tag["engine"] == vllm

    rc, findings = check(run_aligner, repo)
    assert rc == 1
    found = by_place(findings)
    places = {
        "sglang": ("AL002", SGLANG_DF, line_of(sdf, "ARG SGLANG_VERSION=")),
        "cuda": ("AL005", SGLANG_DF, line_of(sdf, "ARG CUDA_VERSION=")),
        "torch": ("AL003", SGLANG_DF, line_of(sdf, "ARG TORCH_VERSION=")),
        "nixl-sglang": ("AL002", SGLANG_DF, nixl_sglang_line),
        "tag": ("AL010", VLLM_DF, line_of(vdf, "ARG IMAGE_TAG=")),
        "nixl-vllm": ("AL002", VLLM_DF, line_of(vdf, "ARG NIXL_VERSION=")),
        "lock": ("AL012", "lock/aligner.lock", 1),
        # `pip install "torch==$(cat /tmp/torch_version.txt)"`: a version the build computes, said so
        "torch-built": ("AL013", VLLM_DF, line_holding(vdf, "torch==$(cat")),
    }
    assert set(found) == set(places.values())
    sev = {k: found[p]["severity"] for k, p in places.items()}
    msg = {k: found[p]["message"] for k, p in places.items()}
    assert sev == {"sglang": "error", "cuda": "info", "torch": "error", "nixl-sglang": "error",
                   "tag": "warning", "nixl-vllm": "error", "lock": "error", "torch-built": "info"}
    up_sglang, up_nixl_s, up_nixl_v = upstream_pin("sglang", "sglang"), upstream_pin("sglang", "nixl"), \
        upstream_pin("vllm", "nixl")
    assert sglang not in up_sglang.specifier and f"sglang {sglang} is outside {up_sglang}" in msg["sglang"]
    assert torch_pin != engine_torch
    assert f"torch {torch_pin} does not satisfy sglang {sglang}" in msg["torch"]
    assert f"requires torch=={engine_torch}" in msg["torch"]
    cuda = arg(sdf, "CUDA_VERSION")
    assert torch_cuda(torch_pin) == torch_cuda(engine_torch) != cuda
    assert f"CUDA {cuda} differs in minor from torch {torch_pin}" in msg["cuda"]
    assert f"(CUDA {torch_cuda(torch_pin)})" in msg["cuda"]
    assert nixl_sglang not in up_nixl_s.specifier and f"nixl {nixl_sglang} is outside {up_nixl_s}" in msg["nixl-sglang"]
    assert nixl_vllm not in up_nixl_v.specifier and f"nixl {nixl_vllm} is outside {up_nixl_v}" in msg["nixl-vllm"]
    assert tag["aibrix"] != aibrix
    assert f"IMAGE_TAG says aibrix-kvcache {tag['aibrix']}, but the image pins {aibrix}" in msg["tag"]
    assert "missing" in msg["lock"]


def test_after_fix_only_the_builder_cuda_is_left(repo, run_aligner):
    before = {p: arg(repo / p, "IMAGE_TAG") for p in (VLLM_DF, SGLANG_DF)}
    result = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "fix-report.md", cwd=repo)
    assert result.returncode == 1, result.stderr
    sdf, vdf = repo / SGLANG_DF, repo / VLLM_DF
    (sglang_spec,) = upstream_pin("sglang", "sglang").specifier
    sglang = sglang_spec.version
    torch = required("sglang", sglang, "torch")
    nixl = {extra: newest_within("nixl", upstream_pin(extra, "nixl")) for extra in ("vllm", "sglang")}
    assert arg(sdf, "SGLANG_VERSION") == f"v{sglang}"
    assert arg(sdf, "TORCH_VERSION") == torch
    assert f"nixl=={nixl['sglang']}" in sdf.read_text().splitlines()[line_of(sdf, "RUN python3 -m pip install nixl==") - 1]
    assert arg(vdf, "NIXL_VERSION") == nixl["vllm"]
    for path, engine, extra in ((sdf, sglang, "sglang"), (vdf, arg(vdf, "VLLM_VERSION").lstrip("v"), "vllm")):
        now, was = tag_parts(arg(path, "IMAGE_TAG")), tag_parts(before[path.name])
        assert now == {"engine": engine, "aibrix": arg(path, "AIBRIX_BRANCH").lstrip("v"), "nixl": nixl[extra],
                       "date": was["date"]}
    rc, findings = check(run_aligner, repo)
    assert rc == 0  # a warning does not fail the check
    cuda = arg(sdf, "CUDA_VERSION")
    assert sorted((f["code"], f["path"], f["line"], f["severity"]) for f in findings) == \
        [("AL005", SGLANG_DF, line_of(sdf, "ARG CUDA_VERSION="), "info"),
         ("AL013", VLLM_DF, line_holding(vdf, "torch==$(cat"), "info")]  # the computed torch stays as it is
    skew = next(f for f in findings if f["code"] == "AL005")
    assert f"CUDA {cuda} differs in minor from torch {torch}" in skew["message"]
    assert f"(CUDA {torch_cuda(torch)})" in skew["message"]
    assert skew["fix"] is None


def test_readme_shows_what_the_commands_print():
    shown = blocks((EXAMPLE / "README.md").read_text())
    assert [cmd for cmd, _ in shown] == ["aligner check", "aligner fix",
                                         "aligner fix --apply --unsafe-fixes --report fix-report.md",
                                         "cat fix-report.md", "aligner check"]
    replayed = run_all(EXAMPLE, [cmd for cmd, _ in shown])
    assert [out for out, _ in replayed] == [out for _, out in shown]
    # `fix` shows changes (all held back for --unsafe-fixes, and the lock); with it, everything is written
    # (with it, the computed torch of the vLLM image is left to the user: 1)
    assert [rc for _, rc in replayed] == [1, 1, 1, 0, 0]


# Gaps found while writing the example; each test says what should happen.

def test_safe_fixes_alone_bring_no_new_finding(repo, run_aligner):
    _, before = check(run_aligner, repo)
    sdf, vdf = repo / SGLANG_DF, repo / VLLM_DF
    # every version change here is a downgrade (unsafe), and the image tags wait for them: nothing to apply
    (sglang_spec,) = upstream_pin("sglang", "sglang").specifier
    assert Version(sglang_spec.version) < Version(arg(sdf, "SGLANG_VERSION").lstrip("v"))
    nixl_sglang = sdf.read_text().splitlines()[line_of(sdf, "RUN python3 -m pip install nixl==") - 1].split("==")[1]
    for extra, pin in (("sglang", nixl_sglang), ("vllm", arg(vdf, "NIXL_VERSION"))):
        assert Version(newest_within("nixl", upstream_pin(extra, "nixl"))) < Version(pin)
    safe_fix_changes_nothing(run_aligner, repo, (sdf, vdf), before)


def test_a_component_built_from_source_needs_no_wheel(repo, run_aligner):
    cfg = repo / "aligner.toml"
    cfg.write_text(cfg.read_text().replace('platforms = ["linux/amd64"]', 'platforms = ["linux/amd64", "linux/arm64"]'))
    _, findings = check(run_aligner, repo)
    assert not [f for f in findings if f["code"] == "AL008" and "aibrix-kvcache" in f["message"]]


def test_fix_of_a_branch_ref_writes_the_tag_of_a_published_release(repo, run_aligner):
    """Whether a tag exists in github.com/vllm-project/aibrix cannot be known offline; what can: the ref
    written is `v` and a final, unyanked aibrix-kvcache release of rules/snapshot/aibrix-kvcache.json,
    the form in which vllm-project/aibrix tags its releases (v0.5.0; its pre-releases are spelled
    v0.5.0-rc.1, not v0.5.0rc1, so a pre-release would not do)."""
    df = repo / SGLANG_DF
    df.write_text(df.read_text().replace("ARG AIBRIX_BRANCH=v0.5.0", "ARG AIBRIX_BRANCH=main"))
    result = run_aligner("fix", "--apply", "--unsafe-fixes", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: changes applied
    ref = arg(df, "AIBRIX_BRANCH")
    assert ref.startswith("v"), ref
    published = {r["version"]: r for r in releases("aibrix-kvcache")}
    rel = published.get(ref[1:])
    assert rel is not None, f"{ref}: no aibrix-kvcache release {ref[1:]} in the snapshot"
    assert not rel["yanked"] and not Version(rel["version"]).is_prerelease, rel


def test_fix_writes_no_pin_that_the_index_lacks(repo, run_aligner):
    df = repo / SGLANG_DF
    df.write_text(df.read_text().replace("pip install nixl==0.7.1\n", "pip install nixl==0.7.1 nixl-cu12==0.7.1\n"))
    result = run_aligner("fix", "--apply", "--unsafe-fixes", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: changes applied (the downgrades of this example)
    line = df.read_text().splitlines()[line_of(df, "RUN python3 -m pip install nixl==") - 1]
    cu12 = line.split("nixl-cu12==")[1].split()[0]
    _, findings = check(run_aligner, repo)
    known = {r["version"] for r in releases("nixl-cu12")}
    assert cu12 in known or any(f["code"] == "AL007" and "nixl-cu12" in f["message"] for f in findings)
