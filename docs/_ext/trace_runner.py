"""Run one docs example and draw the trace of its dials: ``python trace_runner.py PROGRAM OUT OPTIONS``.

Started by ``trace_pictures`` (the Sphinx extension beside this file) in a fresh process for
every ``.. trace-picture::``. It runs PROGRAM as ``__main__`` (exactly as ``python PROGRAM``
would) while :func:`trionet.trace.observe` collects the events of every dial it makes: the
observer lives in a context variable, and :func:`trio.run` starts from a copy of the caller's
context, so the program needs no tracing code of its own. Then it writes the pictures, a JSON
list of SVG texts, to OUT. OPTIONS is JSON: ``width``, ``title``, ``span``, and ``each_dial``
(one picture per dial, each starting at its own 0 ms, all on the same time axis) and
``titles`` (with ``each_dial``, a heading per picture) and ``own_axis`` (with ``each_dial``,
each picture's time axis fits that dial alone).

Exit status 2 with a message on stderr when the program fails or makes no traced dial, so the
docs build stops instead of publishing a page without its picture.
"""

from __future__ import annotations

import json
import runpy
import sys
import traceback

import trionet.trace
from trionet.trace import Event, render_svg


def pictures(events: list[Event], options: dict[str, object]) -> list[str]:
    width = int(str(options.get("width") or 720))
    title = str(options["title"]) if options.get("title") else None
    span = float(str(options["span"])) if options.get("span") is not None else None
    if not options.get("each_dial"):
        return [render_svg(events, width=width, title=title, span=span)]
    dials: dict[int, list[Event]] = {}
    for event in events:
        dials.setdefault(event.dial, []).append(event)
    if span is None and not options.get("own_axis"):  # one scale: they compare at a glance
        span = max(group[-1].time - group[0].time for group in dials.values()) * 1.1 or None
    given = options.get("titles") or []
    titles: list[str | None] = [str(t) for t in given] if isinstance(given, list) else []
    if titles and len(titles) != len(dials):
        raise ValueError(f"{len(titles)} titles for {len(dials)} dials")
    titles += [None] * (len(dials) - len(titles))
    return [
        render_svg(g, width=width, start=g[0].time, span=span, title=t)
        for g, t in zip(dials.values(), titles, strict=True)
    ]


def main() -> int:
    program, out, raw_options = sys.argv[1:]
    options = json.loads(raw_options)
    events: list[Event] = []
    try:
        with trionet.trace.observe(events.append):
            runpy.run_path(program, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            print(f"the example exited with status {exc.code}", file=sys.stderr)
            return 2
    except BaseException:
        traceback.print_exc()
        print("the example failed", file=sys.stderr)
        return 2
    if not events:
        print("the example made no traced dial: there is nothing to draw", file=sys.stderr)
        return 2
    try:
        drawn = pictures(events, options)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    with open(out, "w", encoding="utf-8") as f:
        json.dump(drawn, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
