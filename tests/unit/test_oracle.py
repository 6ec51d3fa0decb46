"""dockerfile-parse as an independent oracle for instruction boundaries.

It has no heredoc model (their bodies come back as instructions) and no byte
offsets, which is why aligner lexes Dockerfiles itself; on files without
heredocs the two must agree on every instruction and its lines. One more known
divergence: BuildKit's parser (frontend/dockerfile/parser/parser.go) skips a
blank line inside a continuation and goes on with the instruction, as aligner
does; dockerfile-parse ends the instruction there.
"""

import re

import io
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from hypothesis import assume, given, settings

from aligner.read.dockerfile.lexer import lex
from tests.support.dockerfile_gen import dockerfiles

CASES = Path(__file__).parent.parent / "fixtures" / "dockerfiles"


def oracle(data: bytes):
    parser = DockerfileParser(fileobj=io.BytesIO(data))
    return [(s["instruction"], s["startline"] + 1, s["endline"] + 1)
            for s in parser.structure if s["instruction"] != "COMMENT"]


def ours(data: bytes):
    return [(i.keyword, i.line, i.end_line) for i in lex("Dockerfile", data).instructions]


@settings(max_examples=150, deadline=None)
@given(dockerfiles())
def test_generated_files_split_like_dockerfile_parse(data):
    assume(b"<<EOF" not in data)
    assume(not re.search(rb"[\\`][ \t]*\r?\n(?:[ \t]*#.*\r?\n)*[ \t]*\r?\n", data))
    assert ours(data) == oracle(data)


def fixture_files():
    out = []
    for case in sorted(CASES.iterdir()):
        for f in sorted(case.iterdir()) if case.is_dir() else []:
            if f.name != "expected.toml" and b"<<" not in f.read_bytes():
                out.append(f)
    return out


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.parent.name)
def test_fixture_files_split_like_dockerfile_parse(path):
    data = path.read_bytes()
    assert ours(data) == oracle(data)
