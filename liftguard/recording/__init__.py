"""Recordings: every session to one crash-safe MCAP file; read, replay, inspect, export, import."""

from __future__ import annotations

from liftguard.recording.reader import PacketBatch, Recording, read_recording
from liftguard.recording.recorder import Recorder, default_recording_path
from liftguard.recording.replay import replay

__all__ = [
    "PacketBatch",
    "Recorder",
    "Recording",
    "default_recording_path",
    "read_recording",
    "replay",
]
