"""`runwatch tail --logs --system`: console lines and system samples interleaved with the run's
other events, escaped, in the text and --json forms, over runs written by real scripts (GPUs
through logger's own NVML fake, tests/test_system.py, put in place of pynvml in the script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, run_script, script_env, wait_for_line

SCRIPT = r"""
    import os, subprocess, sys, time
    from tests.test_system import fake_nvml, h100
    sys.modules["pynvml"] = fake_nvml([h100(71 * 2**30, [])])
    import logger
    logger.init(project="p", name="streams")
    print("from python", flush=True)
    os.write(1, b"from os.write\n")
    subprocess.run([sys.executable, "-c", "print('from a child')"])
    for i in range(5):
        sys.stderr.write(f"\r{i * 25:3d}%|{'#' * i:<4}|"); sys.stderr.flush()
    sys.stderr.write("\n")
    print("\x1b]52;c;cm0gLXJmIH4=\x07 \x1b[31mred\x1b[0m", flush=True)
    logger.log({"loss": 0.5})
    time.sleep(0.6)
    sys.stdout.write("\r 50%|##  |"); sys.stdout.flush()
    logger.finish()
"""


def tail(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "tui", "tail", str(root), "--no-follow", *args],
                         capture_output=True, text=True, env=script_env(), cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    return out


def test_tail_logs_and_system_in_text_form(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, SCRIPT, RUNWATCH_SYSTEM_INTERVAL="0.1")
    lines = tail(root, "--logs", "--system").stdout.splitlines()
    console = [line.split("  ", 3)[-1] for line in lines if "  stdout  " in line or "  stderr  " in line]
    assert console[:3] == ["from python", "from os.write", "from a child"]
    assert "100%|####|" in console and not any("75%" in c for c in console)  # bar collapsed
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07 red" in console  # OSC 52 shown as text, colour dropped
    assert console[-1] == " 50%|##  |"  # the bar open at the end, before the state line
    kinds = [line.split("  ", 3)[2].split()[0] for line in lines]
    assert kinds.index("started") < kinds.index("step") and kinds[-2:] == ["finished", "finished"]
    system = [line for line in lines if "  system  " in line]
    assert len(system) >= 3
    assert "gpu0 97% 71/80G 71°C 350W" in system[0] and "cpu " in system[0] and "mem " in system[0]
    # without the flags, tail prints neither
    plain = tail(root).stdout
    assert "from python" not in plain and "system  " not in plain


def test_tail_logs_and_system_in_json_form(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, SCRIPT, RUNWATCH_SYSTEM_INTERVAL="0.1")
    objs = [json.loads(line) for line in tail(root, "--logs", "--system", "--json").stdout.splitlines()]
    console = [o for o in objs if o["kind"] == "console"]
    texts = [o["text"] for o in console]
    assert texts[:3] == ["from python", "from os.write", "from a child"]
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07 red" in texts
    assert {o["stream"] for o in console} >= {"stdout", "stderr"}
    system = [o for o in objs if o["kind"] == "system"]
    assert system and system[0]["values"]["system.gpu.0.gpu"] == 97
    assert "system.cpu" in system[0]["values"] and system[0]["run"].startswith("p/")
    times = [o["ts"] for o in objs if o["kind"] in ("console", "system", "log")]
    assert times == sorted(times)  # interleaved in time order


def test_tail_follows_console_of_a_live_run_until_done(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "live.py"
    script.write_text("import time, logger\nlogger.init(project='p', name='live')\n"
                      "for i in range(6):\n    print(f'epoch {i}', flush=True)\n    time.sleep(0.2)\n"
                      "logger.finish()\n")
    follow = subprocess.Popen([sys.executable, "-m", "tui", "tail", str(root), "--until-done", "--logs",
                               "-r", "live"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=script_env(), cwd=REPO)
    try:
        # tail has looked at the root (it does not exist yet) before the run starts
        wait_for_line(follow.stderr, "to be created")
        subprocess.run([sys.executable, str(script)], cwd=tmp_path, timeout=60, check=True,
                       env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"), stdout=subprocess.DEVNULL)
        stdout, stderr = follow.communicate(timeout=60)
    finally:
        follow.kill()
    out = subprocess.CompletedProcess(follow.args, follow.returncode, stdout, stderr)
    assert out.returncode == 0, out.stderr
    epochs = [line.rsplit("  ", 1)[-1] for line in out.stdout.splitlines() if "  stdout  " in line]
    assert epochs == [f"epoch {i}" for i in range(6)]
