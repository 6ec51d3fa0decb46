"""Bad input: one clear line naming file and line, exit 2, other files still read."""

import json
import os

import pytest

from aligner.read.dockerfile import read, read_file
from aligner.base.errors import InputError

BAD = [
    ("binary", b"FROM python:3.12\nRUN echo \x00\x01\x02\n", 2, "binary file"),
    ("invalid-utf8", b"FROM python:3.12\n# \xff\xfe\n", 2, "not valid UTF-8"),
    ("not-a-dockerfile", b"[project]\nname = 'x'\n", 1, "unknown instruction"),
    ("no-from", b"ARG VLLM_REF=v0.10.2\n", 1, "no FROM instruction"),
    ("run-before-from", b"ARG A=1\nRUN pip install vllm\nFROM python:3.12\n", 2, "RUN before the first FROM"),
    ("unterminated-heredoc", b"FROM python:3.12\nRUN <<EOF\npip install vllm==0.10.2\n", 2, "unterminated heredoc"),
    ("unterminated-double-quote", b'FROM python:3.12\nARG VLLM_REF="v0.10.2\n', 2, 'unterminated " quote'),
    ("unterminated-single-quote", b"FROM python:3.12\nARG VLLM_REF='v0.10.2\n", 2, "unterminated ' quote"),
    ("unterminated-expansion", b"FROM python:3.12\nENV \\\n  VLLM=${VLLM\n", 3, "unterminated ${"),
    ("bad-escape-directive", b"# escape=x\nFROM python:3.12\n", 1, "escape directive"),
    ("bad-env-name", b"FROM python:3.12\nENV 1BAD=2\n", 2, "not a valid variable name"),
    ("nested-too-deep", ("ARG A=1\nFROM python:3.12\nARG B=" + "${A:-" * 40 + "x" + "}" * 40 + "\n").encode(), 3, "nested deeper"),
]


@pytest.mark.parametrize("name,data,line,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_and_line(name, data, line, message):
    with pytest.raises(InputError) as err:
        read(f"{name}/Dockerfile", data)
    assert err.value.path == f"{name}/Dockerfile"
    assert err.value.line == line
    assert message in err.value.message
    assert str(err.value).startswith(f"{name}/Dockerfile:{line}: ")


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_file(str(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        read_file(str(tmp_path / "absent"))


def test_os_error_is_reported_with_its_reason(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot read: Not a directory"):
        read_file(str(tmp_path / "file" / "Dockerfile"))


def test_one_bad_file_does_not_stop_the_others(tmp_path, run_aligner):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_bytes(b"FROM python:3.12\nRUN <<EOF\npip install vllm\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_bytes(b"ARG VLLM_REF=v0.10.2\nFROM python:3.12\n")
    (tmp_path / "c.Dockerfile").write_bytes(b"FROM python:3.12\n\x00")
    result = run_aligner("pins", "--format", "json", str(tmp_path))
    assert result.returncode == 2
    out = json.loads(result.stdout)
    assert [(p["component"], p["value"]) for p in out["pins"]] == [("vllm", "v0.10.2"), ("python", "3.12")]
    assert sorted((os.path.relpath(e["path"], tmp_path), e["line"]) for e in out["errors"]) == [
        (os.path.join("a", "Dockerfile"), 2),
        ("c.Dockerfile", 2),
    ]
    assert "Traceback" not in result.stderr
    assert result.stderr.count("error: ") == 2


def test_unreadable_in_cli_is_exit_2_without_traceback(tmp_path, run_aligner):
    result = run_aligner("pins", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "nope: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_fifo_is_refused_without_blocking(tmp_path, run_aligner):
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    (tmp_path / "ok.Dockerfile").write_text("FROM python:3.12\n")
    for args in (["pins", str(tmp_path)], ["check", "--no-cache", str(tmp_path)]):
        result = run_aligner(*args)  # would hang on open() of a FIFO with no writer
        assert result.returncode == 2, result.stdout + result.stderr
        assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_non_regular_config_upstream_and_lock_are_refused(tmp_path, run_aligner):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "aligner.toml").write_text('upstream = "up.toml"\n[images.a]\ndockerfile = "Dockerfile"\n')
    os.mkfifo(tmp_path / "up.toml")
    result = run_aligner("check", "--no-cache", cwd=tmp_path)
    assert result.returncode == 2 and "up.toml: is not a regular file" in result.stderr
    (tmp_path / "up.toml").unlink()
    (tmp_path / "up.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "lock").mkdir()
    (tmp_path / "lock" / "aligner.lock").mkdir()
    for args in (("check", "--no-cache"), ("lock", "--check")):
        result = run_aligner(*args, cwd=tmp_path)
        assert result.returncode == 2 and "is a directory" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_unwritable_output_is_a_clean_error(tmp_path, run_aligner):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    result = run_aligner("check", "--no-cache", "-o", str(tmp_path / "no" / "such" / "dir" / "out.txt"), str(tmp_path))
    assert result.returncode == 2 and "No such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_missing_extra_of_an_extra_is_an_error(tmp_path):
    from aligner.read import upstream

    p = tmp_path / "pyproject.toml"
    p.write_text('[project]\nname = "ai-dynamo"\n[project.optional-dependencies]\nvllm = ["vllm==0.10.2"]\n'
                 'all = ["ai-dynamo[vllm,nosuch]"]\n')
    with pytest.raises(InputError, match="nosuch"):
        upstream.load(str(p)).requirements("all")


def test_every_error_aligner_raises_is_one_family():
    """Each is rendered by the command line the same way; none escapes as a traceback."""
    from aligner.act.verify.docker import EngineError
    from aligner.act.verify.uvcheck import UvError
    from aligner.base.errors import AlignerError, DataError, ToolError, UsageError
    from aligner.decide.resolve import Conflict
    from aligner.know.facts import FactsError
    from aligner.know.fetch import FetchError
    from aligner.know.indexurl import IndexConfigError
    from aligner.know.snapshot import SnapshotError
    from aligner.read.dockerfile.words import WordError
    from aligner.read.rewrite import RewriteError

    assert issubclass(FactsError, DataError) and issubclass(SnapshotError, DataError)
    assert all(issubclass(c, ToolError) for c in (EngineError, UvError, FetchError, IndexConfigError))
    assert all(issubclass(c, AlignerError) for c in (InputError, UsageError, Conflict, WordError, RewriteError))
    assert Conflict("img", ["a", "b"]).status == 1, "no aligned set is a finding, not an error"
    assert InputError("Dockerfile", 3, "bad").render() == "error: Dockerfile:3: bad"
    assert UsageError("--jobs", "must be at least 1", hint="try 2").render() == (
        "error: --jobs: must be at least 1\nhint: try 2")


@pytest.mark.parametrize("argv,said", [
    (["fix", "--report", "x.txt"], "error: --report: must name a .md or .json file\n"),
    (["check", "--select", "XX9"], "error: --select: unknown rule code 'XX9'\nhint: see `aligner rules list`\n"),
    (["verify", "--jobs", "0"], "error: --jobs: must be at least 1\n"),
    (["report", "--check"], "error: --check: needs --output FILE: the file to compare with\n"),
])
def test_a_usage_error_names_its_option_and_exits_2(tmp_path, run_aligner, argv, said):
    (tmp_path / "aligner.toml").write_text("")
    result = run_aligner(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == said and "Traceback" not in result.stderr
