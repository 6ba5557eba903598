"""Signals for the Ctrl-C tests' child processes."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT, as a terminal's Ctrl-C
    would: SIGINT back to its default disposition. A shell's background job (``cmd &`` without
    job control) and ``nohup`` start with SIGINT *ignored*, children inherit that, and Python
    then installs no KeyboardInterrupt handler at all -- the child would never see Ctrl-C and
    the test would measure its launcher, not trionet."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
