"""``python -m trionet``: the ``trionet`` command (see :mod:`trionet._cli`)."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
