"""examples/build-args end to end, through this checkout's CLI: versions a build script, a compose file and a
workflow pass are judged and fixed where they are written.

Every expected version is derived here from the example's upstream pyproject and from rules/snapshot, and
every expected place from the example's files, never copied from aligner's output.
"""

import re

from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.example_docs import blocks, run_all
from tests.support.example_facts import EXAMPLES, check, copy_example, release, releases, upstream_pin

EXAMPLE = EXAMPLES / "build-args"
SOURCES = ("container/build.sh", "aibrix/build.sh", "compose.yaml")
DOCKERFILES = ("container/Dockerfile.vllm", "aibrix/Dockerfile.vllm", "serve/Dockerfile")


def line_with(path, text: str) -> int:
    (n,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return n


def wanted():
    """What the upstream and the snapshot make the right versions."""
    (vllm,) = upstream_pin(EXAMPLE, "vllm", "vllm").specifier
    nixl_range = upstream_pin(EXAMPLE, "vllm", "nixl").specifier
    fi = [Requirement(r) for r in release("vllm", vllm.version)["requires-dist"]
          if Requirement(r).name == "flashinfer-python" and 'extra == "flashinfer"' in r]
    nixl = max((Version(r["version"]) for r in releases("nixl")
                if not r["yanked"] and r["version"] in nixl_range and not Version(r["version"]).is_prerelease))
    return vllm.version, str(fi[0].specifier).lstrip("="), str(nixl)


def test_check_judges_the_values_that_are_built_where_they_are_written(tmp_path, run_aligner):
    repo = copy_example(EXAMPLE, tmp_path)
    status, found = check(run_aligner, repo)
    assert status == 1
    places = {(f["code"], f["path"], f["line"]) for f in found}
    script, aibrix = repo / "container" / "build.sh", repo / "aibrix" / "build.sh"
    assert {("AL002", "container/build.sh", line_with(script, "VLLM_REF=\"")),
            ("AL002", "container/build.sh", line_with(script, "NIXL_REF=0")),
            ("AL015", "container/build.sh", line_with(script, "FLASHINF_REF=\"")),  # follows the vllm move
            ("AL002", "aibrix/build.sh", line_with(aibrix, "NIXL_VERSION=")),
            ("AL002", "compose.yaml", line_with(repo / "compose.yaml", "VLLM_VERSION="))} <= places
    flow = [f for f in found if f["path"] == ".github/workflows/serve.yml"]
    assert [(f["code"], f["severity"]) for f in flow] == [("AL009", "warning")]  # compose and CI disagree
    assert not [f for f in found if f["path"] in DOCKERFILES], "a finding at a Dockerfile's empty ARG"
    assert not [f for f in found if f["code"] in ("AL001", "AL013")], "a version the build passes called unpinned"


def test_fix_rewrites_each_value_in_its_own_file_and_no_dockerfile(tmp_path, run_aligner):
    repo = copy_example(EXAMPLE, tmp_path)
    before = {d: (repo / d).read_bytes() for d in DOCKERFILES}
    result = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "fix-report.md", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert {d: (repo / d).read_bytes() for d in DOCKERFILES} == before
    vllm, flashinfer, nixl = wanted()
    script = (repo / "container" / "build.sh").read_text()
    assert f'VLLM_REF="v{vllm}"' in script and f'FLASHINF_REF="{flashinfer}"' in script
    assert re.search(rf"^NIXL_REF={re.escape(nixl)}$", script, re.M)
    assert f"--build-arg NIXL_VERSION={nixl} " in (repo / "aibrix" / "build.sh").read_text()
    assert f"VLLM_VERSION=${{VLLM_VERSION:-{vllm}}}" in (repo / "compose.yaml").read_text()
    report = (repo / "fix-report.md").read_text()
    for source in SOURCES:
        assert f"`{source}:" in report and f"+++ b/{source}" in report
    assert check(run_aligner, repo) == (0, [])  # compose and CI now agree too


def test_readme_shows_what_the_commands_print():
    shown = blocks((EXAMPLE / "README.md").read_text())
    assert [cmd for cmd, _ in shown] == ["aligner check", "aligner fix --apply --unsafe-fixes --report fix-report.md",
                                         "cat fix-report.md", "aligner check"]
    replayed = run_all(EXAMPLE, [cmd for cmd, _ in shown])
    assert [out for out, _ in replayed] == [out for _, out in shown]
    assert [rc for _, rc in replayed] == [1, 0, 0, 0]
