"""From a sensor's notifications to whole samples: the interface every family's assembler has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from liftguard._types import FloatArray

__all__ = ["Assembler", "RawSamples", "feed_one_by_one", "join_packets"]


@dataclass(frozen=True)
class RawSamples:
    """Complete samples decoded from notifications, not yet on the session clock.

    ``acc`` ``(n, 3)`` m/s², ``gyr`` ``(n, 3)`` rad/s, ``flags`` ``(n,)`` uint8 (see
    :mod:`liftguard.samples`), ``t_device`` ``(n,)`` device seconds (unwrapped, monotonic) or
    ``None`` when the stream has no device clock, ``quat`` ``(n, 4)`` the device's own
    orientation estimate ``[w, x, y, z]`` sensor-to-world where the stream carries one.
    ``host_time`` is when the notification completing them arrived. A batch decoded from many
    notifications at once (replay) also says which notification completed which samples:
    ``packet_host_times`` ``(m,)`` and ``packet_counts`` ``(m,)``, in arrival order.
    """

    host_time: float
    acc: FloatArray
    gyr: FloatArray
    flags: npt.NDArray[np.uint8]
    t_device: FloatArray | None = None
    quat: FloatArray | None = None
    packet_host_times: FloatArray | None = None
    packet_counts: npt.NDArray[np.int64] | None = None

    def arrivals(self) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        """``(host_times (m,), counts (m,))``: when each completing notification arrived and
        how many samples it completed."""
        if self.packet_host_times is not None and self.packet_counts is not None:
            return self.packet_host_times, self.packet_counts
        return np.array([self.host_time]), np.array([len(self)], dtype=np.int64)

    def __len__(self) -> int:
        return int(self.acc.shape[0])


class Assembler(Protocol):
    """Turns one sensor's notifications into :class:`RawSamples`.

    ``feed`` never raises on bad bytes: it counts them in ``malformed`` and returns ``None``.
    """

    rate_hz: float

    @property
    def malformed(self) -> int:
        """Notifications that were not valid data, counted and skipped."""

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None: ...

    def feed_batch(self, host_times: FloatArray, packets: Sequence[bytes]) -> RawSamples | None:
        """Many notifications of one sensor at once, in arrival order (replay's fast path).

        Must leave the assembler in the state ``feed`` called on each would, and return the
        same samples, with ``packet_host_times``/``packet_counts`` saying which notification
        completed which.
        """
        ...


def feed_one_by_one(
    assembler: Assembler, host_times: FloatArray, packets: Sequence[bytes]
) -> RawSamples | None:
    """``feed_batch`` for families without a vectorised decoder: ``feed`` each notification."""
    parts = [
        (i, r)
        for i, (h, p) in enumerate(zip(host_times.tolist(), packets, strict=True))
        if (r := assembler.feed(h, p)) is not None and len(r)
    ]
    if not parts:
        return None
    counts = np.zeros(len(packets), dtype=np.int64)
    for i, r in parts:
        counts[i] = len(r)
    rs = [r for _, r in parts]
    return RawSamples(
        host_time=float(host_times[-1]),
        acc=np.concatenate([r.acc for r in rs]),
        gyr=np.concatenate([r.gyr for r in rs]),
        flags=np.concatenate([r.flags for r in rs]),
        t_device=(
            np.concatenate([r.t_device for r in rs if r.t_device is not None])
            if all(r.t_device is not None for r in rs)
            else None
        ),
        quat=(
            np.concatenate([r.quat for r in rs if r.quat is not None])
            if all(r.quat is not None for r in rs)
            else None
        ),
        packet_host_times=np.asarray(host_times, dtype=np.float64),
        packet_counts=counts,
    )


def join_packets(packets: Sequence[object]) -> tuple[bytes, npt.NDArray[np.int64]] | None:
    """The notifications' bytes joined, and each one's length in bytes, ``(m,)``.

    None if any is not a bytes-like object (a str, None…) or is one whose ``len()`` counts
    items rather than bytes (a memoryview of int16): a batch decoder cannot slice those, and
    the assembler takes them one by one as live does (counted as malformed, or decoded).
    """
    try:
        blob = b"".join(packets)  # type: ignore[arg-type]
        lens = np.fromiter(map(len, packets), dtype=np.int64, count=len(packets))  # type: ignore[arg-type]
    except TypeError:
        return None
    return (blob, lens) if len(blob) == int(lens.sum()) else None
