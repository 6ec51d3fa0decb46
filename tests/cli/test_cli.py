"""The CLI as users run it: this checkout's aligner (`python3 -m aligner`), never whichever is on PATH."""

import json
import re
from pathlib import Path

from aligner import __version__

CASES = Path(__file__).parent.parent / "fixtures" / "dockerfiles"


def test_version(run_aligner):
    result = run_aligner("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"aligner {__version__}"


def test_help_explains_pins(run_aligner):
    result = run_aligner("pins", "--help")
    assert result.returncode == 0
    for word in ("Dockerfile.*", "Containerfile", "--format", "json"):
        assert word in result.stdout


def test_no_command_prints_help_and_exits_2(run_aligner):
    result = run_aligner()
    assert result.returncode == 2 and "usage: aligner" in result.stdout


def test_pins_json_is_stable_and_documented(tmp_path, run_aligner):
    df = tmp_path / "Dockerfile.vllm"
    df.write_text('ARG VLLM_REF="v0.10.2"\nFROM python:3.12-slim AS app\nARG VLLM_REF\n'
                  'RUN pip install "vllm==${VLLM_REF#v}"\n')
    result = run_aligner("pins", "--format", "json", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["version"] == 1 and out["errors"] == []
    keys = ["path", "component", "kind", "name", "value", "version", "form", "line", "column", "start", "end",
            "stage", "op", "extras", "via", "use_line", "visible", "cuda", "platforms", "conditional"]
    assert all(list(p) == keys for p in out["pins"])
    rows = [(p["kind"], p["component"], p["value"], p["line"], p["stage"], p["via"]) for p in out["pins"]]
    assert rows == [
        ("arg", "vllm", "v0.10.2", 1, None, None),
        ("from", "python", "3.12", 2, "app", None),
        ("pip", "vllm", "v0.10.2", 1, "app", "VLLM_REF"),
    ]
    again = run_aligner("pins", "--format", "json", str(tmp_path))
    assert again.stdout == result.stdout


def test_pins_table_lists_location_kind_and_stage(tmp_path, run_aligner):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04 AS base\nRUN pip install nixl==0.7.1\n")
    result = run_aligner("pins", str(df))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(f"{df}:1:" in l and "cuda" in l and "12.8.1" in l and "from" in l and "base" in l for l in lines)
    assert any(f"{df}:2:" in l and "nixl" in l and "0.7.1" in l and "pip" in l for l in lines)
    assert lines[-1] == "2 pins in 1 Dockerfiles"


def test_directories_are_searched_by_name(tmp_path, run_aligner):
    for name in ("Dockerfile", "Dockerfile.trtllm", "vllm.Dockerfile", "Containerfile", "notes.txt", "Dockerfile.d/x"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("FROM python:3.12\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "Dockerfile").write_text("FROM python:3.11\n")
    result = run_aligner("pins", "--format", "json", str(tmp_path))
    paths = sorted(Path(p["path"]).relative_to(tmp_path).as_posix() for p in json.loads(result.stdout)["pins"])
    assert paths == ["Containerfile", "Dockerfile", "Dockerfile.trtllm", "vllm.Dockerfile"]


def test_repo_own_files(run_aligner):
    root = Path(__file__).resolve().parent.parent.parent
    result = run_aligner("pins", "--format", "json", "dockerfiles/", "tests/", cwd=root)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["pins"]) > 50


def test_check_of_a_folder_with_no_dockerfile_says_so(tmp_path, run_aligner):
    (tmp_path / "aligner.toml").write_text("")
    (tmp_path / "empty").mkdir()
    result = run_aligner("check", "--no-cache", "empty", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == "warning: no Dockerfiles found under empty\n"


def test_a_run_with_an_unreadable_file_never_says_no_findings(tmp_path, run_aligner):
    (tmp_path / "aligner.toml").write_text("")
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile").write_bytes(b"FROM python:3.12\nRUN echo \x00\n")
    for fmt in ("text", "concise"):
        result = run_aligner("check", "--no-cache", "--format", fmt, ".", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "No findings." not in result.stdout
        assert "No findings in the files read; 1 file could not be read (see the errors)." in result.stdout
        assert "bad/Dockerfile:2: binary file" in result.stderr


def test_check_of_one_file_checks_its_whole_image(tmp_path, run_aligner):
    """A hook passes only the changed file: a Python set in the base Dockerfile breaks the vllm pinned in the
    image's other Dockerfile, and that finding must show (examples/dynamo-alignment: image dynamo-vllm is
    Dockerfile.base then Dockerfile.dynamo-vllm)."""
    import shutil

    from packaging.specifiers import SpecifierSet

    from tests.support.example_facts import EXAMPLES, release

    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "dynamo-alignment", repo)
    base = repo / "Dockerfile.base"
    assert "ARG PYTHON_VERSION=3.12\n" in base.read_text()
    engine = (repo / "Dockerfile.dynamo-vllm").read_text()
    assert "ARG PYTHON_VERSION=3.12\n" in engine
    pinned = re.search(r'ARG VLLM_REF="v([0-9.]+)"', engine).group(1)
    requires = release("vllm", pinned)["requires-python"]  # from the snapshot
    assert not SpecifierSet(requires).contains("3.14"), requires
    base.write_text(base.read_text().replace("ARG PYTHON_VERSION=3.12\n", "ARG PYTHON_VERSION=3.14\n"))

    def al004(*paths):
        result = run_aligner("check", "--no-cache", "--format", "json", "--select", "AL004", *paths, cwd=repo)
        assert result.returncode == 1, result.stderr
        return [(f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]

    whole = al004()
    # the engine file declares its own PYTHON_VERSION=3.12: one image, two Pythons, said in the engine file
    assert whole and {path for path, _ in whole} == {"Dockerfile.dynamo-vllm"}, whole
    assert al004("Dockerfile.base") == whole, "the hook's one file must show what the image shows"


def test_extend_ignore_keeps_the_configs_ignore_list(tmp_path, run_aligner):
    """What the pre-commit hook runs: `--extend-ignore AL012` adds to the config's ignore list (an
    `--ignore` would replace it)."""
    (tmp_path / "aligner.toml").write_text('ignore = ["AL001"]\n[images.app]\ndockerfile = "Dockerfile"\n')
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN pip install flashinfer-python\n")

    def codes(*flags):
        result = run_aligner("check", "--no-cache", "--format", "json", *flags, cwd=tmp_path)
        assert result.returncode in (0, 1), result.stderr
        return {f["code"] for f in json.loads(result.stdout)["findings"]}

    assert codes() == {"AL012"}  # the unpinned flashinfer (AL001) is ignored by the config; the lock is missing
    assert codes("--extend-ignore", "AL012") == set()
    assert "AL001" in codes("--ignore", "AL012")
