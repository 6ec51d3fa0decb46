"""Short run of the fuzz targets of tests/fuzz.py: the Dockerfile reader and the rewriter.

Each source (mutated generated Dockerfiles, raw bytes, Dockerfile-ish tokens) gets
ALIGNER_FUZZ_EXAMPLES inputs (default 300). The long run, outside pytest:

    python3 -m tests.fuzz --examples 200000

(`--source mutated|binary|tokens` for one source, `--seed N` to repeat a run, `--batch N`
examples per hypothesis run). It prints how many inputs it tried and exits 1 on a failure.

What the fuzzer found is here as minimal inputs, each a regression test of the fix.
"""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.dockerfile import read
from aligner.errors import InputError
from aligner.rewrite import rewrite
from tests import fuzz

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


def read_or_refuse(data: bytes) -> None:
    """What every input must do: be read, or be refused with a good InputError."""
    try:
        read(fuzz.PATH, data)
    except InputError as err:
        fuzz.check_input_error(err, data)


def check_rewrite_to(data: bytes, component: str, value: str) -> None:
    """The component's one pin, rewritten to value, is read back at its place with that value.

    Refusing the file, or offering no span to rewrite, is fine too."""
    try:
        (pin,) = [p for p in read(fuzz.PATH, data).pins if p.component == component]
    except InputError:
        return
    if pin.start is None:
        return
    new = rewrite(data, {pin: value})
    try:
        again = [p for p in read(fuzz.PATH, new).pins if p.component == component]
    except InputError as err:
        raise AssertionError(f"the rewritten file is refused: {err}") from None
    assert [(p.start, p.value) for p in again] == [(pin.start, value)], new


# -- what the fuzzer found, as minimal inputs ------------------------------------------------

@pytest.mark.parametrize("data", [
    b"ARG VLLM_REF=" + b"9" * 4301 + b"\nFROM python\n",
    b"FROM python\nRUN pip install vllm==" + b"1" * 4301 + b"\n",
], ids=["arg", "pip"])
def test_version_of_more_than_4300_digits_is_read_or_refused(data):
    # packaging's Version() raised ValueError (Python's int-string limit) through versions.normalise
    read_or_refuse(data)


def test_rewritten_value_does_not_join_the_variable_before_it():
    # the pin `.1` right after an unbraced, unset `$A`, rewritten to 0.11.0, gave `$A0.11.0`: $A0 then `.11.0`
    check_rewrite_to(b"FROM python\nARG VLLM_REF=$A.1\n", "vllm", "0.11.0")


def test_rewritten_value_is_not_changed_by_an_escape_before_it():
    # in double quotes the span of `\\$A` (value `$A`) left the escape out: rewritten, `\\0.11.0` kept the backslash
    check_rewrite_to(b'FROM python\nRUN pip install "vllm==\\$A"\n', "vllm", "0.11.0")


def test_rewritten_value_does_not_join_the_variable_before_a_continuation():
    # the same across a line continuation: `$A\\<newline>.1`
    check_rewrite_to(b"FROM python\nARG VLLM_REF=$A\\\n.1\n", "vllm", "0.11.0")


def test_rewritten_value_does_not_join_a_name_split_by_a_continuation():
    # `vllm==$A\\<newline>1.0` is `vllm==$A1.0` (variable A1, pin `.0`): the reader kept the span, and
    # rewritten to 0.11.0 it read as $A10 then `.11.0`
    check_rewrite_to(b"FROM python\nRUN pip install vllm==$A\\\n1.0\n", "vllm", "0.11.0")


def test_the_regression_checks_pass_on_plain_pins():
    read_or_refuse(b"ARG A=$A ")
    check_rewrite_to(b"FROM python\nARG VLLM_REF=${A}.1\n", "vllm", "0.11.0")
    check_rewrite_to(b'FROM python\nRUN pip install "vllm==$A"\n', "vllm", "0.11.0")


def test_self_reference_error_is_one_line():
    # the `ARG A refers to itself` error quoted the raw word, so a \r of the file reached the message
    read_or_refuse(b"ARG A=$A\r ")
