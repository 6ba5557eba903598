"""RFC 8305's pure parts: the HappyEyeballs value, §4 interlacing, late answers, §5's adaptive delay."""

from __future__ import annotations

import dataclasses
import math

import pytest

from trionet._rfc8305 import AddressQueue, Family, HappyEyeballs, RTTHistory, adaptive_delay, interlace


def fam(a: str) -> Family:
    return 6 if ":" in a else 4


def test_defaults_are_the_rfcs() -> None:
    he = HappyEyeballs()
    assert (he.attempt_delay, he.resolution_delay, he.first_family_count) == (0.25, 0.05, 1)
    assert (he.min_attempt_delay, he.max_attempt_delay) == (0.1, 2.0)
    assert (he.adaptive, he.https_records) == (False, False)
    assert repr(he).startswith("HappyEyeballs(attempt_delay=0.25")
    with pytest.raises(dataclasses.FrozenInstanceError):
        he.attempt_delay = 1  # type: ignore[misc]
    assert hash(he) == hash(HappyEyeballs())
    # 0 and inf are meaningful; equality is by value
    assert (
        HappyEyeballs(attempt_delay=0, resolution_delay=math.inf, max_attempt_delay=math.inf).attempt_delay
        == 0
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempt_delay": -0.001}, "attempt_delay must be >= 0"),
        ({"resolution_delay": -1}, "resolution_delay must be >= 0"),
        ({"attempt_delay": math.nan}, "attempt_delay must be >= 0"),
        ({"max_attempt_delay": -1}, "max_attempt_delay must be >= 0"),
        ({"min_attempt_delay": -1}, "min_attempt_delay must be >= 0"),
        ({"first_family_count": 0}, "first_family_count must be at least 1"),
        ({"first_family_count": -3}, "first_family_count must be at least 1"),
        ({"min_attempt_delay": 0.009}, r"at least 0.01 seconds \(RFC 8305"),
        ({"min_attempt_delay": 0}, r"at least 0.01 seconds"),
        ({"min_attempt_delay": 0.5, "max_attempt_delay": 0.4}, "must not exceed"),
    ],
)
def test_bad_values_are_value_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HappyEyeballs(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempt_delay": None},
        {"attempt_delay": "1"},
        {"resolution_delay": True},
        {"first_family_count": 1.0},
    ],
)
def test_wrong_types_are_type_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        HappyEyeballs(**kwargs)  # type: ignore[arg-type]


def test_min_equal_max_and_the_boundary_are_fine() -> None:
    HappyEyeballs(min_attempt_delay=0.01, max_attempt_delay=0.01)


# RFC 8305 §4's example orders (P = preferred family, O = the other).
@pytest.mark.parametrize(
    ("addrs", "count", "expected"),
    [
        # "If the first address family count is 1 ... P1 O1 P2 O2 P3 ..."
        (["::1", "::2", "::3", "1.0.0.1", "1.0.0.2"], 1, ["::1", "1.0.0.1", "::2", "1.0.0.2", "::3"]),
        # "... set to 2 ... P1 P2 O1 P3 O2 ..."
        (["::1", "::2", "::3", "1.0.0.1", "1.0.0.2"], 2, ["::1", "::2", "1.0.0.1", "::3", "1.0.0.2"]),
        # the preferred family is the first address's, whichever it is
        (["1.0.0.1", "1.0.0.2", "::1", "::2"], 1, ["1.0.0.1", "::1", "1.0.0.2", "::2"]),
        # one family left: the rest of it in order
        (["::1", "1.0.0.1", "1.0.0.2", "1.0.0.3"], 1, ["::1", "1.0.0.1", "1.0.0.2", "1.0.0.3"]),
        # a count larger than the family: all of it, then the other
        (["::1", "::2", "1.0.0.1"], 5, ["::1", "::2", "1.0.0.1"]),
        # already mixed input keeps the order within each family
        (["::1", "1.0.0.1", "::2", "1.0.0.2"], 1, ["::1", "1.0.0.1", "::2", "1.0.0.2"]),
        (["::2", "1.0.0.9", "::1", "1.0.0.1"], 1, ["::2", "1.0.0.9", "::1", "1.0.0.1"]),
        # duplicates appear once
        (["::1", "::1", "1.0.0.1"], 1, ["::1", "1.0.0.1"]),
        ([], 1, []),
    ],
)
def test_interlace(addrs: list[str], count: int, expected: list[str]) -> None:
    assert interlace(addrs, fam, count) == expected


def test_late_answer_is_sorted_into_the_untried_list() -> None:
    q: AddressQueue[str] = AddressQueue(fam)
    assert q.add(["1.0.0.1", "1.0.0.2"]) == ["1.0.0.1", "1.0.0.2"]
    assert q.preferred == 4
    assert q.pop() == "1.0.0.1"
    # AAAA arrives after the first IPv4 attempt: IPv6 goes next (§4 alternation), then IPv4.
    assert q.add(["::1", "::2"]) == ["::1", "::2"]
    assert [q.pop(), q.pop(), q.pop(), q.pop()] == ["::1", "1.0.0.2", "::2", None]
    assert q.popped == 4
    # an address already tried is not queued again
    assert q.add(["::1", "1.0.0.1"]) == []
    assert len(q) == 0


def test_real_answer_replaces_hints() -> None:
    q: AddressQueue[str] = AddressQueue(fam)
    q.add(["::a", "::b", "1.0.0.9"])  # HTTPS hints
    assert q.pop() == "::a"
    # the AAAA answer says ::c, ::b: ::b moves to the answer's order, ::a was tried, no ::a again
    assert q.add(["::c", "::b"], replace=6) == ["::c"]
    assert [q.pop(), q.pop(), q.pop(), q.pop()] == ["1.0.0.9", "::c", "::b", None]
    # A replaces the IPv4 hints that were not confirmed
    q2: AddressQueue[str] = AddressQueue(fam)
    q2.add(["1.0.0.9", "1.0.0.8"])
    q2.add(["1.0.0.1", "1.0.0.8"], replace=4)
    assert [q2.pop(), q2.pop(), q2.pop()] == ["1.0.0.1", "1.0.0.8", None]
    # a dropped hint can come back in a later answer
    q2.add(["1.0.0.9"])
    assert q2.pop() == "1.0.0.9"


def _ipv4_first(addrs: list[str]) -> list[str]:
    return sorted(addrs, key=lambda a: ":" in a)  # an "RFC 6724" that prefers IPv4 (stable)


def test_reorder_lets_one_order_across_families_choose_the_first() -> None:
    # §4: the addresses received so far are sorted together; the head's family leads.
    q: AddressQueue[str] = AddressQueue(fam)
    q.add(["::1", "::2"])  # AAAA first: IPv6 would lead
    q.add(["1.0.0.1", "1.0.0.2"])
    before = q.preferred
    q.reorder(_ipv4_first)
    assert (before, q.preferred) == (6, 4)
    assert [q.pop() for _ in range(5)] == ["1.0.0.1", "::1", "1.0.0.2", "::2", None]


def test_reorder_keeps_each_familys_new_order_and_needs_both_families() -> None:
    q: AddressQueue[str] = AddressQueue(fam)
    q.add(["::1", "::2", "1.0.0.1"])
    q.reorder(lambda addrs: ["::2", "1.0.0.1", "::1"])
    assert [q.pop() for _ in range(4)] == ["::2", "1.0.0.1", "::1", None]
    # one family only: nothing to choose, and the order is the answer's
    one: AddressQueue[str] = AddressQueue(fam)
    one.add(["::1", "::2"])
    one.reorder(lambda addrs: addrs[::-1])
    assert [one.pop(), one.pop()] == ["::1", "::2"]


def test_reorder_changes_nothing_once_an_attempt_was_made_or_for_a_broken_order() -> None:
    q: AddressQueue[str] = AddressQueue(fam)
    q.add(["::1", "::2", "1.0.0.1"])
    assert q.pop() == "::1"
    q.reorder(_ipv4_first)  # too late: the race has begun with IPv6
    assert [q.pop(), q.pop()] == ["1.0.0.1", "::2"]
    broken: AddressQueue[str] = AddressQueue(fam)
    broken.add(["::1", "1.0.0.1"])
    broken.reorder(lambda addrs: ["1.0.0.1"])  # not a permutation of the queue: ignored
    assert [broken.pop(), broken.pop()] == ["::1", "1.0.0.1"]


def test_queue_without_addresses() -> None:
    q: AddressQueue[str] = AddressQueue(fam, 2)
    assert q.pop() is None
    assert q.preferred is None
    assert q.add([]) == []


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ((), 0.25),  # nothing seen: the configured delay
        ((0.040,), 0.120),  # one sample: srtt + 4 * srtt/2 = 3 * rtt
        ((0.010,), 0.1),  # clamped up to min
        ((1.0,), 2.0),  # clamped down to max
        ((0.05, 0.05, 0.05, 0.05), None),  # computed below
    ],
)
def test_adaptive_delay(samples: tuple[float, ...], expected: float | None) -> None:
    got = adaptive_delay(samples, 0.25, 0.1, 2.0)
    if expected is None:
        srtt, rttvar = 0.05, 0.025
        for r in samples[1:]:
            rttvar = 0.75 * rttvar + 0.25 * abs(srtt - r)
            srtt = 0.875 * srtt + 0.125 * r
        expected = max(srtt + 4 * rttvar, 0.1)
    assert got == pytest.approx(expected, abs=1e-12)


def test_adaptive_default_is_clamped_too() -> None:
    assert adaptive_delay((), 5.0, 0.1, 2.0) == 2.0
    assert adaptive_delay((), 0.0, 0.1, 2.0) == 0.1


def test_history_is_bounded_per_family_and_ignores_junk() -> None:
    h = RTTHistory(size=3)
    for r in (0.1, 0.2, 0.3, 0.4, -1.0, math.nan, math.inf):
        h.record(4, r)
    h.record(6, 0.5)
    assert h.samples(4) == (0.2, 0.3, 0.4)
    assert h.samples(6) == (0.5,)
    h.clear()
    assert h.samples(4) == h.samples(6) == ()


def test_delay_after_uses_history_only_when_adaptive() -> None:
    h = RTTHistory()
    h.record(6, 0.3)  # 3 * 0.3 = 0.9
    assert HappyEyeballs().delay_after(6, h) == 0.25
    he = HappyEyeballs(adaptive=True)
    assert he.delay_after(6, h) == pytest.approx(0.9)
    assert he.delay_after(4, h) == 0.25  # no IPv4 sample: the configured delay, clamped
    assert HappyEyeballs(adaptive=True, attempt_delay=0.01, min_attempt_delay=0.05).delay_after(4, h) == 0.05
