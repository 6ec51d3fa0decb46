"""Fuzzing the Dockerfile reader and the rewriter.

Three input sources: mutated and spliced generated Dockerfiles (`mutated_files`), raw bytes
(`raw_bytes`) and lines made of Dockerfile-ish tokens (`token_files`). Every input goes through
`check_all`:

- `read` either returns or raises InputError. Any other exception is the bug this looks for.
  An InputError names "Dockerfile", a line inside the file (or None), and prints as one line.
- every pin with a span holds exactly its value's bytes, and rewriting every pin to its own
  value gives back the same bytes;
- new values for the pins (render() of a generated version; an image tag keeps its shape, only
  its digits change) either make `rewrite` raise RewriteError, which is allowed only when
  spans overlap, or change the bytes inside those spans and nowhere else. Reading the new
  bytes then works, and finds each of those pins (as a multiset of span and value) at its new
  span with its new value; a pin that only the new value makes is not a failure.

The short run is tests/robustness/test_fuzz.py. The long run:

    python3 -m tests.support.fuzz --examples 200000            # every source, 200000 examples each
    python3 -m tests.support.fuzz --examples 50000 --source tokens --seed 7

It runs hypothesis in batches of --batch examples (2000: memory stays flat), prints how many
inputs each source tried (shrinking and discarded ones included) and exits 1 when a property
fails; hypothesis prints the shrunk input and a reproduction blob first.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from typing import Callable, Dict, List, Optional, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from aligner.read.dockerfile import read
from aligner.base.errors import InputError
from aligner.read.rewrite import RewriteError, render, rewrite
from tests.support.dockerfile_gen import ARG_NAMES, dockerfiles, versions

PATH = "Dockerfile"
# Docker's parser refuses a line of 64 KiB or more, and so does aligner's. A rewrite that makes a
# line longer than that can make the new file unreadable, and that is not a bug.
MAX_LINE = 65535

Draw = Callable[[st.SearchStrategy], object]
Span = Tuple[int, int]

HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


# -- properties ---------------------------------------------------------------------------------

def line_count(data: bytes) -> int:
    """Lines in the file; a last line without a newline counts."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def longest_line(data: bytes) -> int:
    return max(len(line) for line in data.split(b"\n"))


def check_input_error(err: InputError, data: bytes) -> None:
    assert err.path == PATH, f"InputError names {err.path!r}, not {PATH!r}: {err}"
    lines = line_count(data)
    assert err.line is None or (type(err.line) is int and 1 <= err.line <= lines + 1), (
        f"InputError at line {err.line!r} of a file of {lines} lines: {err}")
    text = str(err)
    assert "\n" not in text and "\r" not in text, f"InputError is not one line: {text!r}"


def check_read(data: bytes):
    """The Dockerfile read from data, or None when data is refused with a good InputError.

    Any other exception goes up: that is a failure of the fuzz target."""
    try:
        return read(PATH, data)
    except InputError as err:
        check_input_error(err, data)
        return None


def check_spans(data: bytes, df) -> None:
    """Every pin with a span holds its value's exact bytes; a rewrite to the same values is identity."""
    spanned = []
    for p in df.pins:
        if p.start is None:
            assert p.end is None, p
            continue
        assert p.end is not None and 0 <= p.start <= p.end <= len(data), p
        assert data[p.start:p.end] == p.value.encode("utf-8"), (data[p.start:p.end], p)
        spanned.append(p)
    assert rewrite(data, {p: p.value for p in spanned}) == data


def choose_values(pins, draw: Draw) -> Dict[Span, str]:
    """A new value for each span, as test_properties chooses them."""
    chosen: Dict[Span, str] = {}
    for p in pins:
        span = (p.start, p.end)
        if span in chosen:
            continue
        if any(q.kind == "from" for q in pins if (q.start, q.end) == span):
            # image tags have a fixed shape (25.06-py3, 12.8.1-devel): keep it, change the (ASCII) digits
            digits = st.sampled_from("0123456789")
            chosen[span] = "".join(draw(digits) if c in "0123456789" else c for c in p.value)
        else:
            chosen[span] = render(p, draw(versions()))
    return chosen


def overlapping(spans) -> bool:
    spans = sorted(spans)
    return any(a[1] > b[0] for a, b in zip(spans, spans[1:]))


def expected_rewrite(data: bytes, chosen: Dict[Span, str]) -> Tuple[bytes, Dict[Span, Span]]:
    """The bytes with each outermost span replaced, and where each span lies in them.

    Only called when rewrite accepted the values, so that a span inside another agrees with it."""
    out: List[bytes] = []
    where: Dict[Span, Span] = {}
    pos, size, outer = 0, 0, None  # size: bytes written to out so far
    for start, end in sorted(chosen, key=lambda s: (s[0], -s[1])):
        new = chosen[(start, end)].encode("utf-8")
        if outer is not None and start < outer[1]:
            at = outer[2] + (start - outer[0])
            where[(start, end)] = (at, at + len(new))
            continue
        out.append(data[pos:start])
        size += start - pos
        where[(start, end)] = (size, size + len(new))
        out.append(new)
        outer = (start, end, size)
        size += len(new)
        pos = end
    out.append(data[pos:])
    return b"".join(out), where


def check_rewrite(data: bytes, df, draw: Draw) -> str:
    """What happened: "no pins", "conflict" (RewriteError), "too long" or "rewritten"."""
    # a value made at build time (`$(cat f)`, `${#A}`) or by a build arg is never rewritten by fix
    pins = [p for p in df.pins if p.start is not None and p.form not in ("empty", "dynamic", "unset", "local", "constrained")]
    # a specifier of several clauses (`>=0.10,<0.11`) holds its operators in its span: aligner's
    # fix never rewrites a range, and a bare version in its place would drop them (`vllm0.11.0`)
    ranges = {(p.start, p.end) for p in pins if p.form == "range" and not p.op}
    pins = [p for p in pins if (p.start, p.end) not in ranges]
    if not pins:
        return "no pins"
    chosen = choose_values(pins, draw)
    try:
        new = rewrite(data, {p: chosen[(p.start, p.end)] for p in pins})
    except RewriteError as err:
        # pins that share a span get one value; only spans that overlap can conflict
        assert overlapping(chosen), f"RewriteError with no overlapping spans: {err}"
        return "conflict"
    expected, where = expected_rewrite(data, chosen)
    assert new == expected, "rewrite changed bytes outside the pins' spans"
    if longest_line(new) > MAX_LINE:
        return "too long"
    again = check_read(new)
    got: Counter = Counter()
    if again is not None:
        check_spans(new, again)
        spans = set(where.values())
        got = Counter(((q.start, q.end), q.value) for q in again.pins
                      if q.start is not None and q.form != "empty" and (q.start, q.end) in spans)
    want = Counter((where[(p.start, p.end)], chosen[(p.start, p.end)]) for p in pins)
    # every pin comes back at its new span with its new value; more pins there are fine: a value
    # that now has a version's shape can make one (`ARG CUDA_VERSION=" 12.8"` used in a FROM tag)
    missing = want - got
    assert again is not None, f"the rewritten file is refused: {new!r}"
    assert not missing, f"pins missing after the rewrite: {sorted(missing.items())} (found {sorted(got.items())})\n{new!r}"
    return "rewritten"


def check_all(data: bytes, draw: Draw) -> str:
    """Every property on one input; returns what happened to it ("refused", or check_rewrite's word)."""
    df = check_read(data)
    if df is None:
        return "refused"
    check_spans(data, df)
    return check_rewrite(data, df, draw)


# -- inputs: mutated generated files -----------------------------------------------------------

# (NUL not first: hypothesis draws the first element of a list more often, and NUL ends the read at once)
SPECIAL = [
    b" ", b"\x00", b"\r", b"\n", b"\r\n", b"\\", b"\\\n", b"\\ \n", b"`", b"`\n", b'"', b"'", b"${", b"}", b"$(", b")",
    b"$", b";", b"|", b"&", b"&&", b"#", b"# comment\n", b"\n# escape=`\n", b"# escape=\\\n", b"<<EOF\n",
    b"<<-EOF\n", b"<<'EOF'\n", b"\nEOF\n", b"\n\tEOF\n", b"EOF", b"=", b":", b"@", b"/", b"\t", b"-", b".",
    b"${A:-x}", b"${VLLM_REF#v}", b"${VLLM_REF}", b"$VLLM_REF", b"${CUDA_VERSION:-}", b"[", b"]", b",", b"==",
    b"\nARG ", b"\nFROM ", b"\nRUN ", b"\nENV ", b"\nCOPY ", b" AS ", b"\xff", b"\xc3", b"\xed\xa0\x80",
    b"\xef\xbb\xbf", "\u2028".encode(), "\x85".encode(), "é".encode(), "\U0001f600".encode(), b"\x0b", b"\x0c",
]

# positions and lengths: small ones are what shrinking ends at
lengths = st.one_of(st.integers(0, 8), st.integers(0, 200))


@st.composite
def blobs(draw) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return draw(st.sampled_from(SPECIAL))
    if kind <= 5:
        return b"".join(draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=6)))
    if kind == 6:
        return draw(st.binary(min_size=1, max_size=16))
    if kind <= 8:
        return draw(st.text(min_size=1, max_size=8)).encode("utf-8")
    # a very long token
    return draw(st.sampled_from([b"x", b"9", b"${A}", b"\\", b"a "])) * draw(
        st.sampled_from([64, 1000, 8192, 40000, 70000]))


def hot_positions(data: bytes) -> List[int]:
    """Pin boundaries and line starts: where a mutation is most likely to confuse the reader."""
    try:
        pins = read(PATH, data).pins
    except Exception:  # the base file is generated valid; check_all judges the mutated one
        pins = []
    spans = sorted({(p.start, p.end) for p in pins if p.start is not None})
    hot = [at for start, end in spans for at in (start, end, max(start - 1, 0), min(end + 1, len(data)))]
    hot += [i + 1 for i, c in enumerate(data) if c == 10] + [0]  # line starts after the pins: drawn less
    return list(dict.fromkeys(hot))


def position(draw: Draw, data: bytearray, hot: List[int]) -> int:
    if hot and draw(st.booleans()):
        return min(draw(st.sampled_from(hot)), len(data))
    return draw(st.integers(0, len(data)))


def mutate(draw: Draw, data: bytearray, hot: List[int]) -> None:
    op = draw(st.sampled_from(["insert", "replace", "insert", "delete", "duplicate", "replace", "insert", "pad-line"]))
    at = position(draw, data, hot)
    end = min(at + draw(lengths), len(data))
    if op == "insert":
        data[at:at] = draw(blobs())
    elif op == "delete":
        del data[at:end]
    elif op == "duplicate":
        to = position(draw, data, hot)
        data[to:to] = data[at:end]
    elif op == "replace":
        data[at:end] = draw(blobs())
    else:
        # make this line exactly as long as Docker allows, or one byte more
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        stop = len(data) if stop < 0 else stop
        want = draw(st.sampled_from([MAX_LINE - 1, MAX_LINE, MAX_LINE + 1]))
        data[at:at] = draw(st.sampled_from([b"x", b"1", b" "])) * max(want - (stop - start), 0)


def cuts(data: bytes) -> st.SearchStrategy:
    starts = [i + 1 for i, c in enumerate(data) if c == 10][:-1] or [0]
    return st.one_of(st.sampled_from(starts), st.integers(0, len(data)))


@st.composite
def mutated_files(draw) -> bytes:
    """A generated Dockerfile, maybe spliced with another, then mutated a few times."""
    base = draw(dockerfiles())
    how = draw(st.sampled_from(["none", "none", "concat", "splice"]))
    if how == "concat":
        base += draw(dockerfiles())
    elif how == "splice":
        # at line starts mostly: a cut inside a line is one more thing that is not an instruction
        other = draw(dockerfiles())
        cut, rest = draw(cuts(base)), draw(cuts(other))
        base = base[:cut] + other[rest:]
    data = bytearray(base)
    hot = hot_positions(base)
    for _ in range(draw(st.integers(1, 4))):
        mutate(draw, data, hot)
    return bytes(data)


# -- inputs: raw bytes -------------------------------------------------------------------------

def raw_bytes() -> st.SearchStrategy:
    return st.binary(max_size=512)


# -- inputs: Dockerfile-ish tokens -------------------------------------------------------------

NAMES = ARG_NAMES + ["A", "X", "BASE_IMAGE", "VLLM_PIP_WHEEL", "TORCH_WHEEL", "UCX_VERSION", "PY_VER",
                     "CUDA_VERSION", "NIXL_GIT_REF", "VLLM_COMMIT", "1BAD", "TAG"]
VALUES = ["1.2.3", "v0.10.2", "0.7.1", "12.8.1", "3.12", "25.06", "main", "release-1.2", "2.8.0+cu128",
          "0123456789abcdef0123456789abcdef01234567", "abc1234", ">=1.0,<2", "vllm==0.10.2", "", "v", "1",
          "${A}", "$A", "${VLLM_REF}", "${VLLM_REF#v}", "${VLLM_REF%%.*}", "${A:-x}", "${A:-1.0}", "${A:+1.0}",
          "${A-}", "${TAG:-v1.2}", "${CUDA_VERSION}", "$CUDA_VERSION", "${X:?}", "${#A}", "${A/1/2}", "${}",
          "$(echo 1)", "`date`", "$$", "$1", "\\$A", "\\"]
IMAGES = ["python:3.12-slim", "python:3.12", "python", "nvidia/cuda:12.8.1-devel-ubuntu24.04",
          "nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04", "nvidia/cuda-dl-base:25.01-cuda12.8-devel-ubuntu24.04",
          "localhost:5000/nvidia/pytorch:25.06-py3", "lmsysorg/sglang:v0.5.5.post3-cu129", "vllm/vllm-openai:v0.10.2",
          "vllm/vllm-openai:${VLLM_REF}", "${BASE_IMAGE}", "python@sha256:abcd", "stage0", "scratch",
          "lmsysorg/sglang:${SGLANG_VERSION}-cu${CUDA_VERSION}"]
DISTS = ["vllm", "torch", "nixl", "flashinfer-python", "vllm[flashinfer]", "tensorrt-llm", "lmcache", "sglang",
         "ai-dynamo[vllm]", "numpy", "git+https://github.com/vllm-project/vllm.git@", "vllm @ git+https://github.com/vllm-project/vllm@",
         "./wheels/vllm.whl"]
OPS = ["==", "===", ">=", "<=", "~=", "!=", "", " == ", "@"]
TOOLS = ["pip install", "pip3 install --no-cache-dir", "uv pip install --system", "python3 -m pip install",
         "pip install -c constraints.txt", "sudo pip install -U", "pip"]
PUNCT = [" ", " ", "\t", "", "\"", "'", "=", ";", "|", "&&", "\\", "`", "$", "${", "}", "$(", ")", "#", "<<EOF",
         "[", "]", ",", ":", "@", "-", "--", "\\\n", "`\n", "\n", "\r", "é", "\u2028"]
KEYWORDS = ["FROM", "ARG", "ENV", "RUN", "COPY", "ADD", "LABEL", "WORKDIR", "from", "arg", "Run", "ONBUILD RUN",
            "CMD", "#", "BOGUS", ""]


@st.composite
def value_words(draw) -> str:
    if draw(st.integers(0, 3)):
        parts = draw(st.lists(st.sampled_from(VALUES + PUNCT[:12] + ["\r", "\x0b", "\u2028"]), min_size=1, max_size=3))
        return "".join(parts)
    # a version right after what could act on it: a variable, an escape, a line continuation
    before = draw(st.sampled_from(["$A", "${A}", "$VLLM_REF", "\\", "\\\\", "\\$", "$$", "$", "x", ""]))
    join = draw(st.sampled_from(["", "", "\\\n", "`\n", "\\\n  ", "\\ \n", "\\\n# c\n"]))
    return before + join + draw(st.sampled_from(VALUES[:12]))


def quoted(draw: Draw, text: str) -> str:
    q = draw(st.sampled_from(["", "", '"', "'"]))
    return f"{q}{text}{q}"


@st.composite
def instruction_lines(draw, esc: str, nl: str) -> List[str]:
    kind = draw(st.sampled_from(["arg", "arg", "env", "from", "run", "run", "git", "heredoc", "exec", "free"]))
    if kind == "arg":
        words = []
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(NAMES))
            if not draw(st.integers(0, 3)):
                words.append(name)
                continue
            value = draw(value_words())
            if not draw(st.integers(0, 3)):  # a value that names its own variable
                ref = draw(st.sampled_from(["$%s", "${%s}", "${%s:-1.0}", "${%s-}", "${%s#v}", "${%s:+x}", "\\$%s"]))
                value = draw(st.sampled_from([ref % name + value, value + ref % name]))
            words.append(f"{name}={quoted(draw, value)}")
        return [("ARG " if draw(st.integers(0, 5)) else "arg ") + " ".join(words)]
    if kind == "env":
        name, value = draw(st.sampled_from(NAMES)), quoted(draw, draw(value_words()))
        return [f"ENV {name}={value} OTHER=1" if draw(st.booleans()) else f"ENV {name} {value}"]
    if kind == "from":
        platform = draw(st.sampled_from(["", "--platform=$BUILDPLATFORM ", "--platform=linux/amd64 "]))
        stage = draw(st.sampled_from(["", " AS stage0", " AS build", " as ${A}"]))
        return [f"FROM {platform}{draw(st.sampled_from(IMAGES))}{stage}"]
    if kind in ("run", "heredoc", "exec"):
        specs = []
        for _ in range(draw(st.integers(1, 3))):
            dist, op = draw(st.sampled_from(DISTS)), draw(st.sampled_from(OPS))
            specs.append(quoted(draw, dist + op + draw(value_words())))
        tool = draw(st.sampled_from(TOOLS))
        if kind == "exec":
            items = tool.split() + specs
            return ["RUN [" + ", ".join('"%s"' % s.replace('"', '\\"') for s in items) + "]"]
        if kind == "heredoc":
            marker = draw(st.sampled_from(["EOF", "EOF", "'EOF'", "-EOF"]))
            body = [f"{tool} {' '.join(specs)}"]
            shell = draw(st.sampled_from(["", "bash ", "python3 "]))
            return [f"RUN {shell}<<{marker}", "set -e"] + body + [("\t" if marker == "-EOF" else "") + "EOF"]
        sep = draw(st.sampled_from([" ", f" {esc}{nl}    ", f" {esc}{nl}  # inside{nl}  ", " && ", "; ", " | "]))
        tail = draw(st.sampled_from(["", " && echo done", " # trailing", " 2>&1", " > /dev/null"]))
        return [f"RUN {tool} {sep.join(specs)}{tail}"]
    if kind == "git":
        ref = quoted(draw, draw(value_words()))
        repo = draw(st.sampled_from(["https://github.com/openucx/ucx.git", "https://github.com/vllm-project/vllm",
                                     "git@github.com:ai-dynamo/nixl.git", "https://example.com/x/y.git"]))
        form = draw(st.sampled_from(["-b {ref} {repo}", "--branch={ref} {repo}", "--depth 1 -b {ref} {repo}",
                                     "{repo} && cd y && git checkout {ref}"]))
        return ["RUN git clone " + form.format(ref=ref, repo=repo)]
    # free tokens after a keyword
    toks = draw(st.lists(st.sampled_from(PUNCT + VALUES + NAMES + DISTS), max_size=10))
    return [draw(st.sampled_from(KEYWORDS)) + " " + "".join(toks)]


@st.composite
def token_files(draw) -> bytes:
    """Lines of Dockerfile-ish tokens, mostly shaped like instructions, sometimes not."""
    nl = draw(st.sampled_from(["\n"] * 6 + ["\r\n"] * 3 + ["\r"]))  # a lone \r ends no line
    backtick = draw(st.booleans())
    esc = "`" if backtick else "\\"
    lines: List[str] = []
    directive = draw(st.sampled_from(["", "", "", "", "", "", "# escape=`" if backtick else "# escape=\\", "#escape=`",
                                      "# syntax=docker/dockerfile:1", "# escape=x", "\ufeff# escape=`"]))
    if directive:
        lines.append(directive)
    if draw(st.integers(0, 9)):
        lines.append("FROM " + draw(st.sampled_from(IMAGES)))
    for _ in range(draw(st.integers(1, 8))):
        lines += draw(instruction_lines(esc, nl))
    text = nl.join(lines) + draw(st.sampled_from([nl, nl, "", esc, f"{esc}{nl}"]))
    return text.encode("utf-8")


SOURCES: Dict[str, Callable[[], st.SearchStrategy]] = {
    "mutated": mutated_files,
    "binary": raw_bytes,
    "tokens": token_files,
}


# -- the long run -----------------------------------------------------------------------------

def fuzz_test(source: str, examples: int, outcomes: Optional[Counter] = None, seed: Optional[int] = None):
    """A hypothesis test of `check_all` over one input source; `outcomes` counts what happened."""

    @settings(max_examples=examples, deadline=None, derandomize=False, suppress_health_check=HEALTH,
              print_blob=True)
    @given(SOURCES[source](), st.data())
    def fuzz(data: bytes, drawer) -> None:
        outcome = "discarded"  # hypothesis stops an input that runs out of data with an exception
        try:
            outcome = check_all(data, drawer.draw)
        except Exception:
            outcome = "failed"
            raise
        finally:
            if outcomes is not None:
                outcomes[outcome] += 1

    return hypothesis_seed(seed)(fuzz) if seed is not None else fuzz


def run_source(source: str, examples: int, batch: int, seed: Optional[int], outcomes: Counter) -> bool:
    """Fuzz one source in runs of `batch` examples; False on a failure (printed).

    Hypothesis keeps a record of every input of a run (tens of KiB each for mutated files), so a
    long run is many short ones; each starts from a fresh random seed (or seed, seed + 1, ...)."""
    done, run = 0, 0
    while done < examples:
        size = min(batch, examples - done)
        try:
            fuzz_test(source, size, outcomes, None if seed is None else seed + run)()
        except Exception:
            traceback.print_exc()
            return False
        done, run = done + size, run + 1
        if done < examples:
            print(f"  {source}: {done}/{examples} examples, {sum(outcomes.values())} inputs tried", flush=True)
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.support.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10000, help="examples per source (default 10000)")
    parser.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    parser.add_argument("--seed", type=int, help="hypothesis seed of the first run (default: random)")
    parser.add_argument("--batch", type=int, default=2000, help="examples per hypothesis run (default 2000)")
    args = parser.parse_args(argv)
    sources = list(SOURCES) if args.source == "all" else [args.source]
    failed, total = [], 0
    for source in sources:
        outcomes: Counter = Counter()
        began = time.monotonic()
        if not run_source(source, args.examples, max(args.batch, 1), args.seed, outcomes):
            failed.append(source)
        tried = sum(outcomes.values())
        total += tried
        detail = ", ".join(f"{n} {what}" for what, n in outcomes.most_common())
        print(f"{source}: {tried} inputs tried in {time.monotonic() - began:.0f}s ({detail})"
              + (" -- FAILED" if source in failed else ""), flush=True)
    print(f"{total} inputs tried; " + (f"failures in {', '.join(failed)}" if failed else "no failure"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
