"""Properties of reading and rewriting, over generated Dockerfiles."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligner.read.dockerfile import read
from aligner.read.rewrite import rewrite
from tests.support.dockerfile_gen import dockerfiles
from tests.support.fuzz import choose_values

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outside(data: bytes, pins) -> bytes:
    """The file with every pin's value bytes cut out."""
    spans = sorted({(p.start, p.end) for p in pins})
    out, pos = [], 0
    for start, end in spans:
        out.append(data[pos:start])
        pos = end
    out.append(data[pos:])
    return b"\x00".join(out)


@SETTINGS
@given(dockerfiles())
def test_every_generated_file_has_pins_with_exact_spans(data):
    pins = read("Dockerfile", data).pins
    assert pins
    for p in pins:
        if p.start is None:
            # only a value assembled from several places (a tag of ARG + literal) has no one span
            assert p.kind == "from" and p.form == "moving" and p.via, p
        else:
            assert data[p.start:p.end] == p.value.encode("utf-8")


@SETTINGS
@given(dockerfiles())
def test_rewriting_every_pin_to_its_own_value_is_identity(data):
    pins = [p for p in read("Dockerfile", data).pins if p.start is not None]
    assert rewrite(data, {p: p.value for p in pins}) == data


@SETTINGS
@given(dockerfiles(), st.data())
def test_rewriting_changes_nothing_outside_the_value_spans(data, draw):
    pins = [p for p in read("Dockerfile", data).pins if p.form != "empty" and p.start is not None]
    chosen = choose_values(pins, draw.draw)  # image tags keep their shape; others take a new version
    new = rewrite(data, {p: chosen[(p.start, p.end)] for p in pins})
    again = [p for p in read("Dockerfile", new).pins if p.form != "empty" and p.start is not None]
    assert [p.value for p in again] == [chosen[(p.start, p.end)] for p in pins]
    assert outside(new, again) == outside(data, pins)
