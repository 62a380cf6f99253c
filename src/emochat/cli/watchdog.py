"""A hard time limit for one `emochat analyze` input: the last resort against a hang.

Stages stop themselves at their deadlines (:meth:`AnalysisContext.check_deadline`),
but code that never returns to Python (a wedged decoder, a C loop) cannot be
interrupted from inside the process. This watchdog is a timer thread: when the
limit passes it prints one line naming the file and ends the process with
:data:`EXIT_TIMEOUT`. Outputs are written atomically, so none is left half written.
A C call that holds the GIL would also block the timer thread; for that case
faulthandler's own C thread ends the process a minute later regardless.
"""

from __future__ import annotations

import faulthandler
import os
import threading
from pathlib import Path

from emochat.pipeline.runner import STAGE_LIMIT_BASE_S, STAGE_LIMIT_PER_MEDIA_S

EXIT_TIMEOUT = 3
RUN_LIMIT_BASE_S = 3 * STAGE_LIMIT_BASE_S
RUN_LIMIT_PER_MEDIA_S = 2 * STAGE_LIMIT_PER_MEDIA_S
BACKSTOP_S = 60.0


def run_time_limit(duration_s: float | None) -> float:
    """Default limit of a whole analysis: 15 min plus 12 s per second of media."""
    return RUN_LIMIT_BASE_S + RUN_LIMIT_PER_MEDIA_S * max(duration_s or 0.0, 0.0)


class Watchdog:
    """Ends the process with a one-line message if it is still running at the limit."""

    def __init__(self) -> None:
        self._timer: threading.Timer | None = None
        self._devnull = None
        self._stderr_fd: int | None = None

    def arm(self, media: Path, limit_s: float) -> None:
        """(Re)start the countdown for ``media``."""
        self.cancel()
        if self._stderr_fd is None:
            # the face stage points fd 2 at /dev/null while LiteRT loads: keep our own copy
            self._stderr_fd = os.dup(2)
        self._timer = threading.Timer(limit_s, self._fire, (media, limit_s, self._stderr_fd))
        self._timer.daemon = True
        self._timer.start()
        self._devnull = self._devnull or open(os.devnull, "w")  # noqa: SIM115 - lives with us
        faulthandler.dump_traceback_later(limit_s + BACKSTOP_S, exit=True, file=self._devnull)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            faulthandler.cancel_dump_traceback_later()

    @staticmethod
    def _fire(media: Path, limit_s: float, stderr_fd: int) -> None:
        message = (
            f"emochat: error: {media}: analysis still running after its time limit of "
            f"{limit_s:g} s; stopped (raise it with --time-limit)\n"
        )
        # straight to the fd: sys.stderr's buffer may be mid-write in the main thread
        os.write(stderr_fd, message.encode("utf-8", "replace"))
        os._exit(EXIT_TIMEOUT)

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()
        if self._devnull is not None:
            self._devnull.close()
            self._devnull = None
        if self._stderr_fd is not None:
            os.close(self._stderr_fd)
            self._stderr_fd = None
