"""The adversarial corpus (issue 24) through the real CLI: every case ends in a clear error
or a valid result, with no traceback, within its time limit and 1.5 GB of peak memory."""

from __future__ import annotations

import pytest

from emochat.testing.adversarial import CASES, run_case


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_adversarial_input_ends_cleanly_in_bounded_memory_and_time(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert not outcome.problems, outcome.summary
