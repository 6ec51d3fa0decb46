"""Short run of the fuzz targets of tests/support/fuzz.py: the Dockerfile reader and the rewriter.

Each source (mutated generated Dockerfiles, raw bytes, Dockerfile-ish tokens) gets
ALIGNER_FUZZ_EXAMPLES inputs (default 300). The long run, outside pytest:

    python3 -m tests.support.fuzz --examples 200000

(`--source mutated|binary|tokens` for one source, `--seed N` to repeat a run, `--batch N`
examples per hypothesis run). It prints how many inputs it tried and exits 1 on a failure.

What the fuzzer found is here as minimal inputs, each a regression test of the fix.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.know.components import catalog
from aligner.read.dockerfile import read
from aligner.base.errors import InputError
from aligner.decide.fix import FilePlan, add_edits, finish
from aligner.read.rewrite import RewriteError, rewrite
from tests.support import fuzz

EXAMPLES = int(os.environ.get("ALIGNER_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])


@FUZZ
@given(fuzz.mutated_files(), st.data())
def test_mutated_dockerfiles(data, drawer):
    fuzz.check_all(data, drawer.draw)


@FUZZ
@given(fuzz.raw_bytes(), st.data())
def test_raw_bytes(data, drawer):
    fuzz.check_all(data, drawer.draw)


@FUZZ
@given(fuzz.token_files(), st.data())
def test_dockerfile_tokens(data, drawer):
    fuzz.check_all(data, drawer.draw)


def read_or_refuse(data: bytes):
    """What every input must do: be read, or be refused with a good InputError (one line, this file, a line
    inside it). The Dockerfile read, or None when refused: each regression test says which it expects."""
    return fuzz.check_read(data)


def refusal(data: bytes) -> str:
    """The message of the good InputError that refuses data (the test fails if data is read)."""
    with pytest.raises(InputError) as info:
        read(fuzz.PATH, data)
    fuzz.check_input_error(info.value, data)
    return str(info.value)


def only_pin(data: bytes, component: str):
    df = read_or_refuse(data)
    assert df is not None, "a Dockerfile, refused"
    (pin,) = [p for p in df.pins if p.component == component]
    return pin


def check_rewrite_to(data: bytes, component: str, value: str) -> None:
    """The component's one pin holds its bytes in one span; rewritten to value, it is read back at its place
    with that value (never joined to what stands before it)."""
    pin = only_pin(data, component)
    assert pin.start is not None and data[pin.start:pin.end] == pin.value.encode(), f"no span offered: {pin}"
    new = rewrite(data, {pin: value})
    try:
        again = [p for p in read(fuzz.PATH, new).pins if p.component == component]
    except InputError as err:
        raise AssertionError(f"the rewritten file is refused: {err}") from None
    assert [(p.start, p.value) for p in again] == [(pin.start, value)], new


def check_never_rewritten(data: bytes, component: str, value: str, read_as: str) -> None:
    """The component's one pin is read (its value read_as) but offers no span: no one span of the file holds
    it, so nothing can write a value that joins its neighbour. rewrite() refuses the pin and `fix` to value
    leaves the file byte for byte as it is."""
    pin = only_pin(data, component)
    assert pin.value == read_as, pin
    assert (pin.start, pin.end) == (None, None), f"a span is offered for {pin.value!r}: {pin}"
    with pytest.raises(RewriteError, match="is not held in one place"):
        rewrite(data, {pin: value})
    plan = FilePlan(fuzz.PATH, data)
    add_edits(plan, fuzz.PATH, {component: (value, "test")}, "img", True, catalog())
    assert finish(plan).new == data and not plan.edits, plan.new


# -- what the fuzzer found, as minimal inputs ------------------------------------------------

@pytest.mark.parametrize("data,component,digits", [
    (b"ARG VLLM_REF=" + b"9" * 4301 + b"\nFROM python\n", "vllm", "9" * 4301),
    (b"FROM python\nRUN pip install vllm==" + b"1" * 4301 + b"\n", "vllm", "1" * 4301),
], ids=["arg", "pip"])
def test_version_of_more_than_4300_digits_is_read_or_refused(data, component, digits):
    # packaging's Version() raised ValueError (Python's int-string limit) through versions.normalise;
    # now the file is read (not refused) and the digits are the pin's value, at their place
    pin = only_pin(data, component)
    assert pin.value == digits and data[pin.start:pin.end] == digits.encode()


def test_rewritten_value_does_not_join_the_variable_before_it():
    # the pin `.1` right after an unbraced, unset `$A`, rewritten to 0.11.0, gave `$A0.11.0`: $A0 then `.11.0`
    check_never_rewritten(b"FROM python\nARG VLLM_REF=$A.1\n", "vllm", "0.11.0", read_as=".1")


def test_rewritten_value_is_not_changed_by_an_escape_before_it():
    # in double quotes the span of `\\$A` (value `$A`) left the escape out: rewritten, `\\0.11.0` kept the backslash
    check_never_rewritten(b'FROM python\nRUN pip install "vllm==\\$A"\n', "vllm", "0.11.0", read_as="$A")


def test_a_shell_escape_counts_under_another_escape_directive():
    # under `# escape=``, RUN's `"\\$A"` is still the shell's escape of `$`: the span of `$A` left the
    # backslash out, and rewritten to v0.0 the clone's branch read `\\v0.0`
    data = b'# escape=`\nFROM python:3.12-slim\nRUN git clone -b "\\$A" https://github.com/openucx/ucx.git\n'
    check_never_rewritten(data, "ucx", "0.0", read_as="$A")


def test_rewritten_value_does_not_join_the_variable_before_a_continuation():
    # the same across a line continuation: `$A\\<newline>.1`
    check_never_rewritten(b"FROM python\nARG VLLM_REF=$A\\\n.1\n", "vllm", "0.11.0", read_as=".1")


def test_rewritten_value_does_not_join_a_name_split_by_a_continuation():
    # `vllm==$A\\<newline>1.0` is `vllm==$A1.0` (variable A1, pin `.0`): the reader kept the span, and
    # rewritten to 0.11.0 it read as $A10 then `.11.0`
    check_never_rewritten(b"FROM python\nRUN pip install vllm==$A\\\n1.0\n", "vllm", "0.11.0", read_as=".0")


def test_the_regression_checks_pass_on_plain_pins():
    # the checks above are not vacuous: where one span holds the value, it is rewritten and read back
    assert "no FROM instruction" in refusal(b"ARG A=$A ")
    assert read_or_refuse(b"ARG A=$A \nFROM python\n") is not None
    check_rewrite_to(b"FROM python\nARG VLLM_REF=${A}.1\n", "vllm", "0.11.0")
    check_rewrite_to(b'FROM python\nRUN pip install "vllm==$A"\n', "vllm", "0.11.0")
    check_rewrite_to(b"FROM python\nARG VLLM_REF=0.10.2\n", "vllm", "0.11.0")


def test_self_reference_with_a_cr_is_read_or_refused_in_one_line():
    # the `ARG A refers to itself` error quoted the raw word, so a \r of the file reached the message. A
    # self-reference is no error any more (Docker builds it): the file is read, its value a dynamic pin
    # with no span; without a FROM the file is refused for that, in one line
    message = refusal(b"ARG A=$A\r ")
    assert "no FROM instruction" in message and "\r" not in message
    assert read_or_refuse(b"ARG A=$A\r \nFROM python\n") is not None
    pin = only_pin(b"FROM python\nARG VLLM_REF=$VLLM_REF\r \n", "vllm")
    assert pin.form == "dynamic" and pin.version is None and pin.start is None
