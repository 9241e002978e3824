# SPDX-License-Identifier: LGPL-2.1-or-later
"""Waiting in the container tests for something that happens on its own time."""

import time


def wait_until(condition, timeout=10, what="condition", interval=0.1):
    """Calls condition until it returns something true and returns that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
