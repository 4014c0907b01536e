"""The lumbar-flexion alarm at its edges: threshold, hold time, once per rep."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.alerts.flexion import FlexionAlarmRule

RATE = 100.0


def pulse(height: float, duration: float, *, start: float = 1.0, total: float = 3.0):
    t = np.arange(0, total, 1 / RATE)
    flex = np.where((t >= start) & (t < start + duration), height, 10.0)
    return t, flex


def feed(rule: FlexionAlarmRule, t, flex, rep=None, block: int = 5):
    rep = np.ones(t.size, np.int64) if rep is None else rep
    out = []
    for i in range(0, t.size, block):
        s = slice(i, i + block)
        out += rule.update(t[s], flex[s], rep[s], np.ones(t[s].size, bool))
    return out


@pytest.mark.parametrize("block", [1, 5, 1000])
def test_flexion_above_threshold_held_longer_than_hold_time_alarms_once(block: int) -> None:
    t, flex = pulse(31.0, 0.3)
    trig = feed(FlexionAlarmRule(30.0, 0.1), t, flex, block=block)
    assert len(trig) == 1
    assert trig[0].t == pytest.approx(1.1, abs=1.5 / RATE)
    assert trig[0].value_deg == 31.0


def test_flexion_just_below_threshold_never_alarms() -> None:
    t, flex = pulse(29.9, 1.5)
    assert feed(FlexionAlarmRule(30.0, 0.1), t, flex) == []


def test_flexion_above_threshold_for_less_than_the_hold_time_does_not_alarm() -> None:
    t, flex = pulse(45.0, 0.08)
    assert feed(FlexionAlarmRule(30.0, 0.1), t, flex) == []


def test_second_excursion_in_the_same_rep_does_not_alarm_again() -> None:
    t = np.arange(0, 4, 1 / RATE)
    flex = np.where(((t > 1) & (t < 1.5)) | ((t > 2.5) & (t < 3.0)), 40.0, 0.0)
    assert len(feed(FlexionAlarmRule(30.0, 0.1), t, flex)) == 1


def test_excursions_in_different_reps_alarm_for_each() -> None:
    t = np.arange(0, 4, 1 / RATE)
    flex = np.where(((t > 1) & (t < 1.5)) | ((t > 2.5) & (t < 3.0)), 40.0, 0.0)
    rep = np.where(t < 2.0, 1, 2).astype(np.int64)
    trig = feed(FlexionAlarmRule(30.0, 0.1), t, flex, rep)
    assert [x.rep for x in trig] == [1, 2]


def test_reset_for_a_new_set_rearms_rep_one() -> None:
    rule = FlexionAlarmRule(30.0, 0.1)
    t, flex = pulse(40.0, 0.5)
    assert len(feed(rule, t, flex)) == 1
    rule.reset()
    assert len(feed(rule, t + 10, flex)) == 1


def test_inactive_samples_never_alarm() -> None:
    t, flex = pulse(60.0, 1.0)
    rule = FlexionAlarmRule(30.0, 0.1)
    assert rule.update(t, flex, np.ones(t.size, np.int64), np.zeros(t.size, bool)) == []


@pytest.mark.parametrize("kwargs", [{"threshold_deg": 0}, {"hold_s": -0.1}])
def test_nonsense_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FlexionAlarmRule(**kwargs)


def test_warning_then_alarm_escalate_within_one_rep() -> None:
    t = np.arange(0, 3, 1 / RATE)
    flex = np.interp(t, [0, 1, 2, 3], [10, 25, 35, 10])  # passes 20°, then 30°
    rule = FlexionAlarmRule(30.0, 0.1, warning_deg=20.0)
    trig = feed(rule, t, flex)
    assert [(x.severity, x.level_deg) for x in trig] == [("warning", 20.0), ("alarm", 30.0)]
    assert trig[0].t < trig[1].t


def test_an_alarm_at_once_makes_the_warning_redundant() -> None:
    t, flex = pulse(45.0, 0.5)  # jumps straight past both levels
    trig = feed(FlexionAlarmRule(30.0, 0.1, warning_deg=20.0), t, flex)
    assert [x.severity for x in trig] == ["alarm"]


def test_hysteresis_keeps_a_wobble_at_the_edge_one_excursion() -> None:
    t = np.arange(0, 2, 1 / RATE)
    # above 30° for 60 ms, dips to 29° for 20 ms, above again for 60 ms: 140 ms in all
    flex = np.full(t.size, 10.0)
    flex[(t >= 1.0) & (t < 1.06)] = 31.0
    flex[(t >= 1.06) & (t < 1.08)] = 29.0
    flex[(t >= 1.08) & (t < 1.14)] = 31.0
    assert feed(FlexionAlarmRule(30.0, 0.1), t, flex) == []  # no hysteresis: two 60 ms runs
    (trig,) = feed(FlexionAlarmRule(30.0, 0.1, hysteresis_deg=2.0), t, flex)
    assert trig.t == pytest.approx(1.10, abs=1.5 / RATE)
