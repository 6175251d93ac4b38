"""Bounded polling: every wait in the live tests ends, and says what it was waiting for when it gives up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not come true in time; the message has what was awaited and the last state seen.

    An AssertionError, so pytest reports it as a test failure with that message.
    """


def wait_for(
    what: str,
    probe: Callable[[], tuple[T | None, str]],
    timeout: float,
    interval: float = 2.0,
) -> T:
    """Call ``probe`` until it returns a value (not None) and return that value.

    ``probe`` returns ``(value, state)``: ``state`` describes what it saw, for the message when the
    wait runs out. An exception in ``probe`` ends the wait at once (use it for hopeless states).
    """
    deadline = time.monotonic() + timeout
    while True:
        value, state = probe()
        if value is not None:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(f"gave up after {timeout:g}s waiting for {what}; last seen: {state or 'nothing'}")
        time.sleep(min(interval, remaining))
