"""Short, derandomized fuzzing of the transcript parsers and the manifest reader (CI).

bench/bench_fuzz.py runs the same targets for much longer; each finding of either
got a regression test with its minimal input in the parser's own test file.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from emochat.testing.fuzz import TARGETS, FuzzWorkdir, check_input


@pytest.fixture(scope="module", params=sorted(TARGETS))
def target(request):
    workdir = FuzzWorkdir(TARGETS[request.param])
    check_input(workdir.target, workdir, b"")  # first imports outside the examples
    yield workdir
    workdir.cleanup()


def test_any_bytes_give_a_result_or_a_one_line_user_error(target):
    @settings(
        max_examples=200,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.target.inputs())
    def holds(data: bytes) -> None:
        found = check_input(target.target, target, data)
        assert found is None, f"{found} <- {data[:200]!r}"

    holds()


def test_the_harness_catches_a_broken_contract(tmp_path):
    """A parser bug must show as a finding (else the fuzz test could never fail)."""
    import dataclasses

    def crashes(path):
        raise KeyError("oops")

    broken = dataclasses.replace(TARGETS["srt"], check=crashes)
    workdir = FuzzWorkdir(broken)
    try:
        signature, _ = check_input(broken, workdir, b"1\n")
    finally:
        workdir.cleanup()
    assert signature.startswith("KeyError at ")
