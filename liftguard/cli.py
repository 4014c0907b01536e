"""The ``liftguard`` command."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import NoReturn

from liftguard import __version__
from liftguard.errors import LiftGuardError

__all__ = ["main"]

DESCRIPTION = """\
LiftGuard watches the lower backs of athletes doing supervised heavy lifting and impact
training. Two BLE IMU sensors per athlete (T12/L1 and sacrum) give lumbar flexion; LiftGuard
counts reps and alerts the supervisor when a lift goes into unsafe spinal flexion.
It is not a medical device: thresholds are the supervising professional's call."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (no usage dump, no traceback)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liftguard",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"liftguard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="simulated athletes doing deadlift sets on emulated sensors",
        description=(
            "Run a session with simulated athletes wearing emulated MetaMotion sensors. "
            "The emulators speak the real wire protocol behind a simulated bleak backend, so "
            "the driver, pipeline and alerts are exactly those of a live session. Each athlete "
            "calibrates (stand still, bend forward), then does deadlift sets of 5 reps, some "
            "with a rounded lower back. Prints every rep and alert as it happens and, at the "
            "end, each athlete's counts next to the simulator's truth."
        ),
    )
    demo.add_argument(
        "--athletes", type=_positive_int, default=2, metavar="N", help="athletes (1-16, default 2)"
    )
    demo.add_argument(
        "--duration",
        type=_positive_float,
        default=120.0,
        metavar="SECONDS",
        help="session length in simulated seconds (at least 30, default 120)",
    )
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        metavar="FACTOR",
        help="simulated seconds per real second (default 1 = real time)",
    )
    demo.add_argument(
        "--seed", type=_non_negative_int, default=0, metavar="K", help="random seed (default 0)"
    )
    demo.add_argument("--json", action="store_true", help="one JSON event per line instead of text")
    return parser


def _cmd_demo(args: argparse.Namespace) -> int:
    from liftguard.console import ConsoleSink
    from liftguard.demo import DemoOptions, run_demo_sync

    opts = DemoOptions(
        athletes=args.athletes, duration=args.duration, speed=args.speed, seed=args.seed
    )
    run_demo_sync(opts, ConsoleSink(json=args.json))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``liftguard`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _cmd_demo(args)
    except LiftGuardError as exc:
        print(f"liftguard {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("liftguard: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
