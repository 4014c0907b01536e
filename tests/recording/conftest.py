from __future__ import annotations

import math
from pathlib import Path

import pytest

from liftguard.demo import DemoOptions, run_demo_sync
from liftguard.events import Event


@pytest.fixture(scope="session")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Event]]:
    """A recorded 60 s, 2-athlete demo session and the events it produced live."""
    path = tmp_path_factory.mktemp("rec") / "demo.mcap"
    events: list[Event] = []
    run_demo_sync(
        DemoOptions(athletes=2, duration=60, speed=math.inf, seed=3), events.append, record=path
    )
    return path, events
