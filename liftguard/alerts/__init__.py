"""Safety rules that turn measured angles into alerts, and the board that keeps them visible.

Flexion alerts come from rules on measured angles only — never from the technique model — so a
missing or broken model can never silence them (DESIGN safety invariant 1).
"""

from __future__ import annotations

from liftguard.alerts.board import AlertBoard
from liftguard.alerts.flexion import FlexionAlarmRule, FlexionTrigger

__all__ = ["AlertBoard", "FlexionAlarmRule", "FlexionTrigger"]
