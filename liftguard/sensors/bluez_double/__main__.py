"""Run the BlueZ double as its own process, serving the demo's simulated athletes.

::

    python -m liftguard.sensors.bluez_double --bus-address ADDR --demo-athletes 2 --seed 0

serves two MetaMotions per athlete (the addresses, chips and motion ``liftguard demo`` uses) as
``org.bluez`` on the bus at ``ADDR``, prints ``ready`` on stdout once a client can scan, and
exits cleanly on SIGTERM or SIGINT. Without ``--bus-address`` it starts a private bus first and
prints ``DBUS_SYSTEM_BUS_ADDRESS=…`` (export it for bleak) before ``ready``.

Faults from outside: SIGUSR1 drops every link; the ``io.liftguard.TestControl1`` interface
(bus name ``io.liftguard.TestControl``, path ``/io/liftguard/TestControl``) has DropLink,
DropAllLinks, SetAdvertising, FailNextConnect, SetNotificationFaults and GetStats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from liftguard.cast import build_cast
from liftguard.demo import MAX_ATHLETES
from liftguard.firmware_bridge.emulation import EmulatedDevice
from liftguard.sensors.bluez_double import BluezDouble, PrivateBus, start_private_bus

__all__ = ["demo_emulators", "main"]


def demo_emulators(
    athletes: int, seed: int, duration: float, families: Sequence[str] = ("metawear",)
) -> list[EmulatedDevice]:
    """The sensors of ``liftguard demo``'s athletes: same names, addresses, chips, motion.

    The motion starts at the double's time 0 (its start) and holds the last pose after
    ``duration`` s.
    """
    return build_cast(athletes, seed, duration, families=families).emulators


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m liftguard.sensors.bluez_double",
        description="A bluetoothd test double serving the demo's emulated sensors on D-Bus.",
    )
    p.add_argument(
        "--bus-address",
        help="D-Bus address to serve org.bluez on (default: start a private dbus-daemon)",
    )
    p.add_argument("--demo-athletes", type=int, default=2, help="simulated athletes (1-16)")
    p.add_argument("--seed", type=int, default=0, help="picks the athletes, as in liftguard demo")
    p.add_argument(
        "--duration", type=float, default=600.0, help="seconds of scripted lifting per athlete"
    )
    p.add_argument(
        "--families",
        default="metawear",
        help="comma-separated sensor families; athlete i wears the i-th (cycling)",
    )
    return p


async def _serve(args: argparse.Namespace, bus_address: str) -> None:
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    emulators = demo_emulators(args.demo_athletes, args.seed, args.duration, families)
    double = BluezDouble(emulators, bus_address=bus_address)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, double.drop_all_links)
    await double.start()
    try:
        print("ready", flush=True)
        await stop.wait()
    finally:
        await double.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    if not 1 <= args.demo_athletes <= MAX_ATHLETES:
        print(f"--demo-athletes must be 1-{MAX_ATHLETES}", file=sys.stderr)
        return 2
    if args.seed < 0 or not args.duration > 0:
        print("--seed must be >= 0 and --duration > 0", file=sys.stderr)
        return 2
    private: PrivateBus | None = None
    bus_address = args.bus_address
    if bus_address is None:
        private = start_private_bus()
        bus_address = private.address
        print(f"DBUS_SYSTEM_BUS_ADDRESS={bus_address}", flush=True)
    try:
        asyncio.run(_serve(args, bus_address))
    finally:
        if private is not None:
            private.stop()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
