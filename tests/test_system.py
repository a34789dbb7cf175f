"""System metrics: psutil for real in real processes; NVML through a small fake of the pynvml
functions the sampler calls (tests/gpu/ runs the real NVML path on a GPU machine)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import logger
from logger import events as ev
from logger.nvml import GpuSampler, describe_reasons
from logger.segment import SegmentReader
from logger.system import SystemSampler, resolve_interval

from .conftest import run_script, script_env


def system_events(root: Path) -> dict[str, list[ev.SystemStats]]:
    (run_dir,) = (root / "p").iterdir()
    out = {}
    for seg in sorted(run_dir.glob("*.rws")):
        out[seg.name] = [e for e in SegmentReader(seg).read_new() if type(e) is ev.SystemStats]
    return out


def only_run(root: Path) -> Any:
    (run_dir,) = (root / "p").iterdir()
    return logger.Api(root).run(f"p/{run_dir.name}")


def test_psutil_metrics_of_the_process_tree_for_real(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, """
        import subprocess, sys, time
        import logger
        from logger.capture import _captures
        run = logger.init(project="p", settings=logger.Settings(x_stats_sampling_interval=0.2))
        held = bytearray(150 * 1024 * 1024)  # touched: resident
        child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(100 * 1024 * 1024); "
                                  "print('ready', flush=True); time.sleep(30)"], stdout=subprocess.PIPE)
        assert child.stdout.readline() == b"ready\\n"
        sampler = _captures[id(run)].sampler
        wanted, deadline = sampler.samples + 5, time.monotonic() + 60
        while sampler.samples < wanted and time.monotonic() < deadline:
            time.sleep(0.05)  # five samples with the child's memory in it (~1 s, longer loaded)
        logger.finish()
        child.kill()
        child.stdout.close()
    """)
    rows = only_run(root).history(stream="system", pandas=False)
    assert len(rows) >= 4
    last = rows[-1]
    # The child's 100 MB counts: the process tree is sampled, as W&B does.
    assert last["system.proc.memory.rssMB"] > 240
    assert last["system.proc.cpu.threads"] >= 2
    assert 0 <= last["system.memory"] == last["system.memory_percent"] <= 100
    assert last["system.proc.memory.availableMB"] > 0
    assert 0 <= last["system.cpu"] <= 100
    for i in range(__import__("os").cpu_count() or 1):
        assert 0 <= last[f"system.cpu.{i}.cpu_percent"] <= 100
    assert last["system.disk./.usageGB"] > 0
    assert {"system.network.sent", "system.network.recv"} <= set(last)
    assert last["_runtime"] > 0 and last["_timestamp"] > 1e9
    assert [r["_timestamp"] for r in rows] == sorted(r["_timestamp"] for r in rows)
    assert "system.cpu" not in only_run(root).summary_flat()  # apart from the user's history


def test_import_logger_loads_neither_psutil_nor_pynvml_the_sampler_does(tmp_path: Path) -> None:
    code = ("import sys, time, logger; bad = {'psutil', 'pynvml'} & set(sys.modules); "
            "assert not bad, bad; logger.init(project='p', dir=sys.argv[1], console='off', "
            "settings={'x_stats_sampling_interval': 0.2}); time.sleep(1.5); "
            "assert {'psutil', 'pynvml'} <= set(sys.modules); logger.finish(); print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "runs")], capture_output=True,
                         text=True, env=script_env(), timeout=60)
    assert out.stdout == "ok\n", out.stderr


@pytest.mark.parametrize("how", [
    {"settings": "logger.Settings(x_disable_stats=True)"},
    {"settings": "{'_disable_stats': True}"},
    {"env": "0"},
])
def test_sampling_can_be_turned_off(root: Path, tmp_path: Path, how: dict[str, str]) -> None:
    settings = how.get("settings", "None")
    run_script(tmp_path, f"""
        import time
        import logger
        logger.init(project="p", settings={settings})
        time.sleep(1.5)
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL=how.get("env", "0.2"))
    assert sum(map(len, system_events(root).values())) == 0


def test_interval_settings_and_their_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWATCH_SYSTEM_INTERVAL", raising=False)
    assert resolve_interval({}) == 10.0
    monkeypatch.setenv("RUNWATCH_SYSTEM_INTERVAL", "3")
    assert resolve_interval({}) == 3.0
    assert resolve_interval({"x_stats_sampling_interval": 15}) == 15.0
    assert resolve_interval({"system_interval": 0}) == 0.0
    monkeypatch.setenv("RUNWATCH_SYSTEM_INTERVAL", "often")
    with pytest.raises(ValueError, match=r"RUNWATCH_SYSTEM_INTERVAL='often'.*seconds"):
        resolve_interval({})
    with pytest.raises(ValueError, match="must be 0"):
        resolve_interval({"x_stats_sampling_interval": -1})


def test_a_bad_interval_is_refused_at_init_before_any_run_exists(root: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWATCH_SYSTEM_INTERVAL", "soon")
    with pytest.raises(ValueError, match="RUNWATCH_SYSTEM_INTERVAL"):
        logger.init(project="p")
    assert not (root / "p").exists()


RANK = """
    import os, time
    import logger
    logger.init(project="p", id="ddp1", resume="allow",
                settings=logger.Settings(x_stats_sampling_interval=0.2))
    time.sleep(2.0)
    logger.finish()
"""


def test_ranks_on_one_host_sample_it_once(root: Path, tmp_path: Path) -> None:
    (tmp_path / "rank.py").write_text(__import__("textwrap").dedent(RANK))
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "rank.py")], cwd=tmp_path,
                              env=script_env(**({"LOCAL_RANK": str(r)} if r < 2 else {})))
             for r in range(3)]  # LOCAL_RANK 0 and 1 (torchrun), and one launched by hand
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    counts = sorted(len(v) for v in system_events(root).values())
    assert len(counts) == 3 and counts[:2] == [0, 0] and counts[2] >= 4


def test_missing_psutil_is_one_line_and_the_run_goes_on(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import sys, time
        sys.modules["psutil"] = None  # as if it were not installed
        import logger
        logger.init(project="p", console="off", settings={"x_stats_sampling_interval": 0.2})
        time.sleep(1.5)
        logger.log({"loss": 1.0})
        logger.finish()
    """)
    lines = [line for line in proc.stderr.splitlines() if "system metrics" in line]
    assert len(lines) == 1 and "psutil is not installed" in lines[0], proc.stderr
    assert only_run(root).state == "finished"


# -- NVML, through a fake of the calls the sampler makes ----------------------------------------
class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):  # noqa: N801 - pynvml's name
    pass


def fake_nvml(devices: list[dict[str, Any]], init_error: Exception | None = None) -> Any:
    """A stand-in for `pynvml`: the functions GpuSampler calls, over `devices`."""

    def dev(name: str) -> Any:
        def call(handle: int, *args: Any) -> Any:
            value = devices[handle].get(name if not args else (name, *args))
            if isinstance(value, Exception):
                raise value
            if value is None:
                raise NVMLError_NotSupported("Not Supported")
            return value
        return call

    def init() -> None:
        if init_error is not None:
            raise init_error

    names = ["nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature",
             "nvmlDeviceGetClockInfo", "nvmlDeviceGetFanSpeed", "nvmlDeviceGetPowerUsage",
             "nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetTotalEccErrors",
             "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetComputeRunningProcesses",
             "nvmlDeviceGetGraphicsRunningProcesses"]
    module = SimpleNamespace(**{n: dev(n) for n in names})
    module.nvmlInit, module.nvmlShutdown = init, lambda: None
    module.nvmlDeviceGetCount = lambda: len(devices)
    module.nvmlDeviceGetHandleByIndex = lambda i: i
    for const, value in [("NVML_TEMPERATURE_GPU", 0), ("NVML_CLOCK_GRAPHICS", 0), ("NVML_CLOCK_SM", 1),
                         ("NVML_CLOCK_MEM", 2), ("NVML_MEMORY_ERROR_TYPE_CORRECTED", 0),
                         ("NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1), ("NVML_VOLATILE_ECC", 0)]:
        setattr(module, const, value)
    return module


def h100(used: int, procs: list[Any]) -> dict[str, Any]:
    return {
        "nvmlDeviceGetUtilizationRates": SimpleNamespace(gpu=97, memory=40),
        "nvmlDeviceGetMemoryInfo": SimpleNamespace(used=used, total=80 * 2**30),
        ("nvmlDeviceGetTemperature", 0): 71, ("nvmlDeviceGetClockInfo", 1): 1980,
        ("nvmlDeviceGetClockInfo", 2): 2619, ("nvmlDeviceGetClockInfo", 0): 1755,
        "nvmlDeviceGetFanSpeed": None,  # an H100 has no fan: NotSupported, quietly dropped
        "nvmlDeviceGetPowerUsage": 350_000, "nvmlDeviceGetEnforcedPowerLimit": 700_000,
        ("nvmlDeviceGetTotalEccErrors", 0, 0): 3, ("nvmlDeviceGetTotalEccErrors", 1, 0): 0,
        "nvmlDeviceGetCurrentClocksEventReasons": 0x4 | 0x40,
        "nvmlDeviceGetComputeRunningProcesses": procs,
        "nvmlDeviceGetGraphicsRunningProcesses": [],
    }


def test_gpu_metrics_with_wandb_key_names() -> None:
    mine = [SimpleNamespace(pid=4242, usedGpuMemory=30 * 2**30)]
    other = [SimpleNamespace(pid=999, usedGpuMemory=2**30)]
    gpus = GpuSampler(fake_nvml([h100(71 * 2**30, mine), h100(2**30, other)]))
    values = gpus.sample({4242, 4243})
    assert values["gpu.0.gpu"] == 97 and values["gpu.0.memory"] == 40
    assert values["gpu.0.memoryAllocatedBytes"] == 71 * 2**30
    assert values["gpu.0.memoryAllocated"] == pytest.approx(100 * 71 / 80)
    assert values["gpu.0.temp"] == 71 and values["gpu.0.smClock"] == 1980
    assert values["gpu.0.memoryClock"] == 2619 and values["gpu.0.graphicsClock"] == 1755
    assert values["gpu.0.powerWatts"] == 350 and values["gpu.0.enforcedPowerLimitWatts"] == 700
    assert values["gpu.0.powerPercent"] == 50
    assert values["gpu.0.correctedMemoryErrors"] == 3 and values["gpu.0.uncorrectedMemoryErrors"] == 0
    assert describe_reasons(values["gpu.0.clocksEventReasons"]) == ["sw_power_cap", "hw_thermal_slowdown"]
    assert "gpu.0.fanSpeed" not in values and gpus.failures == []  # NotSupported is no failure
    # This process tree uses GPU 0 only: its memory there, and W&B's gpu.process.N mirrors.
    assert values["gpu.process.0.usedMemoryBytes"] == 30 * 2**30
    assert values["gpu.process.0.gpu"] == 97 and values["gpu.process.0.temp"] == 71
    assert not any(k.startswith("gpu.process.1.") for k in values)
    assert values["gpu.1.memoryAllocatedBytes"] == 2**30


def test_a_failing_nvml_call_is_dropped_for_that_gpu_and_reported_once() -> None:
    device = h100(2**30, [])
    device["nvmlDeviceGetPowerUsage"] = NVMLError("Unknown Error")
    gpus = GpuSampler(fake_nvml([device]))
    first, second = gpus.sample(set()), gpus.sample(set())
    assert "gpu.0.powerWatts" not in first and "gpu.0.powerPercent" not in second
    assert first["gpu.0.temp"] == second["gpu.0.temp"] == 71
    assert gpus.failures == ["gpu 0 powerWatts: Unknown Error"]


def _sample_in_process(nvml: Any) -> tuple[list[ev.Event], list[tuple[str, bool]]]:
    events: list[ev.Event] = []
    notes: list[tuple[str, bool]] = []
    sampler = SystemSampler(events.append, time.time, 0.05, lambda text, loud: notes.append((text, loud)),
                            nvml=nvml)
    sampler.start()
    deadline = time.monotonic() + 10
    while len(events) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    sampler.stop()
    return events, notes


def test_sampler_records_gpus_beside_psutil_metrics() -> None:
    events, notes = _sample_in_process(fake_nvml([h100(2**30, [])]))
    assert notes == []
    assert all(type(e) is ev.SystemStats for e in events) and len(events) >= 3
    assert {"gpu.0.gpu", "cpu", "memory_percent", "proc.memory.rssMB"} <= set(events[-1].values)


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's name
    pass


def test_no_gpu_is_one_quiet_note_and_cpu_metrics_go_on() -> None:
    events, notes = _sample_in_process(fake_nvml([], NVMLError_LibraryNotFound("NVML Shared Library Not Found")))
    # Kept in the run's console; not printed: a machine without GPUs is no problem.
    assert notes == [("runwatch: system metrics: no GPU metrics (NVML: NVML Shared Library Not Found)", False)]
    assert len(events) >= 3 and not any(k.startswith("gpu.") for k in events[-1].values)


def test_a_failing_nvml_call_is_one_line_on_the_terminal() -> None:
    device = h100(2**30, [])
    device[("nvmlDeviceGetTemperature", 0)] = NVMLError("GPU is lost")
    _events, notes = _sample_in_process(fake_nvml([device]))
    assert notes == [("runwatch: system metrics: gpu 0 temp: GPU is lost", True)]


def test_a_cpu_only_run_prints_nothing_about_gpus(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import time
        import logger
        logger.init(project="p", settings=logger.Settings(x_stats_sampling_interval=0.2))
        time.sleep(1.5)
        logger.finish()
    """)
    assert proc.stderr == ""
    (run_dir,) = (root / "p").iterdir()
    from logger.streams import console_lines

    notes = [text for _t, stream, text in console_lines(run_dir) if stream == "note"]
    assert len(notes) <= 1 and all("system metrics" in n for n in notes)


def test_a_dead_claimants_host_claim_is_taken_over_and_a_live_ones_kept(tmp_path: Path) -> None:
    import os
    import socket

    from logger.host import process_start_ticks
    from logger.system import claim_host

    claim = tmp_path / f".system-{socket.gethostname()}.claim"
    parent = os.getppid()
    claim.write_text(f"{parent} {process_start_ticks(parent)}\n")
    assert claim_host(tmp_path) is False  # a live process samples this host already
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    claim.write_text(f"{dead.stdout.strip()} 12345\n")
    assert claim_host(tmp_path) is True  # its process is gone (a resumed run): taken over
    assert claim.read_text().split()[0] == str(os.getpid())
