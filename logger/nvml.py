"""GPU metrics through NVML (nvidia-ml-py's `pynvml`), with W&B's key names.

`gpu_sample(nvml, ...)` calls only the pynvml functions named here, on whatever module-like
object it is given: the real `pynvml`, or a small fake in the tests. A call a device does not
support is dropped for that device after its first failure, as W&B's monitor does.
"""

from __future__ import annotations

import importlib
from typing import Any

# Device calls that take (handle, *args) and whose result is a number, by W&B's key.
_SCALARS: dict[str, tuple[str, tuple[str, ...], float]] = {
    "temp": ("nvmlDeviceGetTemperature", ("NVML_TEMPERATURE_GPU",), 1.0),
    "smClock": ("nvmlDeviceGetClockInfo", ("NVML_CLOCK_SM",), 1.0),
    "memoryClock": ("nvmlDeviceGetClockInfo", ("NVML_CLOCK_MEM",), 1.0),
    "graphicsClock": ("nvmlDeviceGetClockInfo", ("NVML_CLOCK_GRAPHICS",), 1.0),
    "fanSpeed": ("nvmlDeviceGetFanSpeed", (), 1.0),
    "powerWatts": ("nvmlDeviceGetPowerUsage", (), 1e-3),  # mW
    "enforcedPowerLimitWatts": ("nvmlDeviceGetEnforcedPowerLimit", (), 1e-3),
    "correctedMemoryErrors": ("nvmlDeviceGetTotalEccErrors",
                              ("NVML_MEMORY_ERROR_TYPE_CORRECTED", "NVML_VOLATILE_ECC"), 1.0),
    "uncorrectedMemoryErrors": ("nvmlDeviceGetTotalEccErrors",
                                ("NVML_MEMORY_ERROR_TYPE_UNCORRECTED", "NVML_VOLATILE_ECC"), 1.0),
}
# Mirrored as gpu.process.N.<key> on the GPUs this process tree uses (as W&B does).
_PROCESS_KEYS = ("gpu", "memory", "memoryAllocated", "memoryAllocatedBytes", "temp", "powerWatts",
                 "enforcedPowerLimitWatts", "powerPercent")


class GpuSampler:
    """Every GPU NVML sees, sampled once per call. Raises only from `__init__` (no NVML)."""

    def __init__(self, nvml: Any) -> None:
        self.nvml = nvml
        nvml.nvmlInit()
        self.count = int(nvml.nvmlDeviceGetCount())
        self.handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(self.count)]
        self.unsupported: set[tuple[int, str]] = set()
        self.failures: list[str] = []  # "what failed: why", each once, for one line of explanation

    def sample(self, pids: set[int]) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, handle in enumerate(self.handles):
            values = self._device(i, handle)
            for key, value in values.items():
                out[f"gpu.{i}.{key}"] = value
            used = self._process_memory(i, handle, pids)
            if used is not None:
                out[f"gpu.process.{i}.usedMemoryBytes"] = float(used)
                for key in _PROCESS_KEYS:
                    if key in values:
                        out[f"gpu.process.{i}.{key}"] = values[key]
        return out

    def _call(self, i: int, what: str, fn: str, *args: Any) -> Any:
        """One NVML call, or None once it has failed for this device (it is not tried again)."""
        if (i, what) in self.unsupported:
            return None
        try:
            return getattr(self.nvml, fn)(*args)
        except Exception as exc:  # noqa: BLE001 - NVMLError_*, or a function this version lacks
            self.unsupported.add((i, what))
            if "NotSupported" not in type(exc).__name__:
                self.failures.append(f"gpu {i} {what}: {exc}")
            return None

    def _device(self, i: int, handle: Any) -> dict[str, float]:
        nvml, values = self.nvml, {}
        util = self._call(i, "utilization", "nvmlDeviceGetUtilizationRates", handle)
        if util is not None:
            values["gpu"], values["memory"] = float(util.gpu), float(util.memory)
        mem = self._call(i, "memory", "nvmlDeviceGetMemoryInfo", handle)
        if mem is not None and mem.total:
            values["memoryAllocated"] = 100.0 * mem.used / mem.total
            values["memoryAllocatedBytes"] = float(mem.used)
            values["memoryTotalBytes"] = float(mem.total)
        for key, (fn, consts, scale) in _SCALARS.items():
            value = self._call(i, key, fn, handle, *(getattr(nvml, c) for c in consts))
            if value is not None:
                values[key] = float(value) * scale
        if values.get("enforcedPowerLimitWatts") and "powerWatts" in values:
            values["powerPercent"] = 100.0 * values["powerWatts"] / values["enforcedPowerLimitWatts"]
        reasons = self._throttle(i, handle)
        if reasons is not None:
            values["clocksEventReasons"] = float(reasons)
        return values

    def _throttle(self, i: int, handle: Any) -> int | None:
        """The clock event (throttle) reasons bitmask: NVML 12.3 renamed the call."""
        fn = ("nvmlDeviceGetCurrentClocksEventReasons"
              if hasattr(self.nvml, "nvmlDeviceGetCurrentClocksEventReasons")
              else "nvmlDeviceGetCurrentClocksThrottleReasons")
        return self._call(i, "clocksEventReasons", fn, handle)

    def _process_memory(self, i: int, handle: Any, pids: set[int]) -> int | None:
        """GPU memory the process tree `pids` holds on this device; None if it holds none."""
        mine = [used for pid, used in self.processes(i, handle) if pid in pids]
        return sum(used or 0 for used in mine) if mine else None  # None: the driver cannot tell

    def device(self, i: int) -> dict[str, float]:
        """GPU `i`'s values now, with W&B's key names without the `gpu.N.` prefix."""
        return self._device(i, self.handles[i])

    def processes(self, i: int, handle: Any = None) -> list[tuple[int, int | None]]:
        """(pid, GPU memory in bytes, None where the driver cannot tell) of every compute and
        graphics process on GPU `i`; a process that is both is listed once."""
        handle = self.handles[i] if handle is None else handle
        out: dict[int, int | None] = {}
        for what, fn in (("compute", "nvmlDeviceGetComputeRunningProcesses"),
                         ("graphics", "nvmlDeviceGetGraphicsRunningProcesses")):
            for proc in self._call(i, what, fn, handle) or ():
                if proc.pid not in out or out[proc.pid] is None:
                    out[int(proc.pid)] = proc.usedGpuMemory
        return list(out.items())

    def close(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down: nothing to do about it
            pass


_NO_GPU = ("LibraryNotFound", "DriverNotLoaded")  # NVML errors that mean "a machine without GPUs"


def open_gpus(nvml: Any = None) -> tuple[GpuSampler | None, str, bool]:
    """(the sampler, "", _) or (None, why there are no GPU metrics, whether to say it aloud):
    `nvml` is a stand-in for pynvml (tests); None imports the real one."""
    if nvml is None:
        try:
            nvml = importlib.import_module("pynvml")
        except ImportError:
            return None, "nvidia-ml-py is not installed: no GPU metrics", True
    try:
        return GpuSampler(nvml), "", True
    except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound, DriverNotLoaded...
        return None, f"no GPU metrics (NVML: {exc})", not any(n in type(exc).__name__ for n in _NO_GPU)


# The bits of the clocks event reasons mask (nvml.h), for readers that spell them out.
CLOCKS_EVENT_REASONS = {
    0x1: "gpu_idle", 0x2: "applications_clocks_setting", 0x4: "sw_power_cap",
    0x8: "hw_slowdown", 0x10: "sync_boost", 0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown", 0x80: "hw_power_brake_slowdown", 0x100: "display_clock_setting",
}


def describe_reasons(mask: float) -> list[str]:
    """The names of the reasons set in a `gpu.N.clocksEventReasons` value."""
    bits = int(mask)
    return [name for bit, name in CLOCKS_EVENT_REASONS.items() if bits & bit]
