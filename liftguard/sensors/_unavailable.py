"""What 'no Bluetooth' looks like from bleak, turned into one clear error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

from liftguard.errors import BluetoothUnavailableError

__all__ = ["bluetooth_unavailable", "no_bluetooth_is_one_error"]

SIMULATED_HINT = "use `liftguard demo` to try LiftGuard with simulated sensors"


def bluetooth_unavailable(
    exc: BaseException, *, hint: str = SIMULATED_HINT
) -> BluetoothUnavailableError | None:
    """The user-facing error for a failure that means 'no Bluetooth here', else ``None``.

    bleak's BlueZ backend fails with ``FileNotFoundError`` when there is no system D-Bus at
    all, ``BleakBluetoothNotAvailableError`` without a (powered) adapter, and a D-Bus
    ``ServiceUnknown`` error when bluetoothd is not running.
    """
    if isinstance(exc, FileNotFoundError):
        return BluetoothUnavailableError(
            f"no Bluetooth on this machine (no BlueZ system bus); {hint}"
        )
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailableError(
            f"Bluetooth is not available: {exc}; plug in or power on the adapter "
            "(bluetoothctl power on)"
        )
    if isinstance(exc, BleakDBusError) and "ServiceUnknown" in str(exc.dbus_error):
        return BluetoothUnavailableError(
            "Bluetooth is not available: BlueZ (bluetoothd) is not running; start it with "
            "`systemctl start bluetooth`"
        )
    return None


@contextmanager
def no_bluetooth_is_one_error(*, hint: str = SIMULATED_HINT) -> Iterator[None]:
    """Re-raise bleak's ways of saying 'no Bluetooth' as :class:`BluetoothUnavailableError`."""
    try:
        yield
    except (FileNotFoundError, BleakBluetoothNotAvailableError, BleakDBusError) as exc:
        unavailable = bluetooth_unavailable(exc, hint=hint)
        if unavailable is None:
            raise
        raise unavailable from exc
