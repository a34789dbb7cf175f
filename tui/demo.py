"""`runwatch demo`: a small simulated sweep, written by real `logger` processes, shown live.

Seven runs with different learning rates, batch sizes, optimizers and seeds log noisy but
plausible curves (loss, accuracy, val/loss, val/acc, a warmup-then-cosine lr schedule): four
finish after 30-90 s, one fails with a traceback, one is killed by the "OOM killer" (SIGKILL:
it reads crashed), one runs until the demo ends. Each is its own process, so every state is
the real thing. The workers die with the demo: they watch their parent, and the kernel sends
them SIGTERM if it goes (PR_SET_PDEATHSIG on Linux).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PROJECT = "cat-classification"
STEPS_PER_SECOND = 10
VAL_EVERY = 20

SWEEP: list[dict[str, Any]] = [
    {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "seed": 0, "fate": "finish", "seconds": 45},
    {"optimizer": "adam", "lr": 3e-4, "batch_size": 128, "seed": 1, "fate": "finish", "seconds": 60},
    {"optimizer": "sgd", "lr": 1e-2, "batch_size": 64, "seed": 2, "fate": "finish", "seconds": 75},
    {"optimizer": "adamw", "lr": 1e-3, "batch_size": 512, "seed": 3, "fate": "fail", "seconds": 20},
    {"optimizer": "adam", "lr": 3e-3, "batch_size": 64, "seed": 4, "fate": "finish", "seconds": 90},
    {"optimizer": "adamw", "lr": 5e-4, "batch_size": 128, "seed": 5, "fate": "crash", "seconds": 40},
    {"optimizer": "sgd", "lr": 3e-2, "batch_size": 256, "seed": 6, "fate": "forever", "seconds": 120},
]


# -- the parent ------------------------------------------------------------------------------
def run_demo(root_arg: str | None, headless: bool, speed: float = 1.0,
             stop_after: float | None = None, force_polling: bool | None = None) -> int:
    """Start the sweep, show it (app, or tail when headless), then stop every worker."""
    from .cli.common import CliError, root_path

    temporary = root_arg is None
    root = Path(tempfile.mkdtemp(prefix="runwatch-demo-")) if temporary else root_path(root_arg)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create demo root {root}: {exc.strerror or exc}") from None
    workers = start_sweep(root, speed)
    print(f"runwatch demo: {len(workers)} runs writing under {root}", file=sys.stderr, flush=True)
    # SIGTERM (`timeout`, a closing terminal's job control) unwinds through the cleanup below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        if headless:
            return _show_headless(root, stop_after, force_polling)
        from .app import run_app  # Textual, only now

        return run_app(root, force_polling=force_polling)
    finally:
        stop_sweep(workers)
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"runwatch demo: the runs are kept in {root}", file=sys.stderr)


def _show_headless(root: Path, stop_after: float | None, force_polling: bool | None) -> int:
    from .tail import TailOptions
    from .tail_follow import run_tail

    stop = threading.Event()
    timer = None
    if stop_after is not None:
        timer = threading.Timer(stop_after, stop.set)
        timer.daemon = True
        timer.start()
    try:
        run_tail(root, TailOptions(every=1.0), force_polling=force_polling, stop=stop)
    finally:
        if timer is not None:
            timer.cancel()
    return 0


def start_sweep(root: Path, speed: float = 1.0) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ)
    package_dir = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_dir + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RUNWATCH_DIR", None)
    workers = []
    for spec in SWEEP:
        job = dict(spec, root=str(root), speed=speed, parent=os.getpid())
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "tui.demo", json.dumps(job)], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
    return workers


def stop_sweep(workers: list[subprocess.Popen[bytes]], grace: float = 3.0) -> None:
    """SIGTERM (the runs read "killed"), then SIGKILL whatever is still there after `grace`."""
    for proc in workers:
        if proc.poll() is None:
            try:
                proc.terminate()
            except OSError:
                pass
    deadline = time.monotonic() + grace
    for proc in workers:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- a worker --------------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before prctl: nobody will tell us
        sys.exit(0)


def _orphaned(parent: int) -> bool:
    return os.getppid() != parent


class Curves:
    """Plausible training curves for one config: what a good lr and optimizer would give."""

    def __init__(self, spec: dict[str, Any], steps: int) -> None:
        self.rng = random.Random(spec["seed"])
        self.steps = steps
        self.lr = spec["lr"]
        best_lr = 1e-3 if spec["optimizer"].startswith("adam") else 1e-2
        miss = abs(math.log10(self.lr / best_lr))
        self.final_loss = 0.18 + 0.25 * miss + 0.02 * self.rng.random() + 0.0002 * spec["batch_size"]
        self.noise = 0.03 + 0.04 * miss
        self.rate = 4.0 + self.rng.random()

    def lr_at(self, step: int) -> float:
        warmup = max(1, self.steps // 20)
        if step < warmup:
            return self.lr * (step + 1) / warmup
        p = min(1.0, (step - warmup) / max(1, self.steps - warmup))
        return self.lr * 0.5 * (1 + math.cos(math.pi * p))

    def train(self, step: int) -> tuple[float, float]:
        p = (step % self.steps) / self.steps
        clean = self.final_loss + (2.3 - self.final_loss) * math.exp(-self.rate * p)
        loss = max(0.01, clean * (1 + self.rng.gauss(0, self.noise)))
        acc = min(0.999, max(0.0, 1.02 - 0.42 * clean + self.rng.gauss(0, self.noise / 3)))
        return loss, acc

    def val(self, step: int) -> tuple[float, float]:
        p = (step % self.steps) / self.steps
        loss, _ = self.train(step)
        overfit = 0.25 * max(0.0, p - 0.6) ** 2
        val_loss = loss * 1.08 + overfit + abs(self.rng.gauss(0, 0.02))
        return val_loss, min(0.999, max(0.0, 1.0 - 0.42 * val_loss + self.rng.gauss(0, 0.01)))


def worker(spec: dict[str, Any]) -> None:
    parent = spec["parent"]
    _die_with_parent(parent)
    import logger

    config = {k: spec[k] for k in ("optimizer", "lr", "batch_size", "seed")}
    config.update(epochs=10 if spec["fate"] != "forever" else None, model="resnet18",
                  weight_decay=1e-4 if spec["optimizer"] == "adamw" else 0.0)
    run = logger.init(project=PROJECT, dir=spec["root"], config=config, group="lr-sweep",
                      job_type="train", tags=["demo", spec["optimizer"]])
    run.define_metric("val/acc", summary="max")
    steps = int(spec["seconds"] * STEPS_PER_SECOND)
    curves = Curves(spec, steps)
    pause = 1.0 / STEPS_PER_SECOND / spec["speed"]
    die_at = int(steps * 0.6) if spec["fate"] == "crash" else None
    step = 0
    next_tick = time.monotonic()
    while spec["fate"] == "forever" or step < steps:
        if _orphaned(parent):
            os.kill(os.getpid(), signal.SIGTERM)  # the logger records the run as killed
        if step == die_at:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        if spec["fate"] == "fail" and step == int(steps * 0.5):
            _evaluate_on_gpu(spec["batch_size"])
        loss, acc = curves.train(step)
        row = {"loss": loss, "acc": acc, "lr": curves.lr_at(step % steps),
               "epoch": 10 * (step % steps) // steps}
        if step % VAL_EVERY == VAL_EVERY - 1:
            row["val/loss"], row["val/acc"] = curves.val(step)
        run.log(row)
        step += 1
        next_tick += pause
        time.sleep(max(0.0, next_tick - time.monotonic()))
    run.log_artifact({"weights": [round(curves.train(i)[0], 4) for i in range(16)]},
                     name="resnet18", type="model")
    run.finish()


def _evaluate_on_gpu(batch_size: int) -> None:
    _allocate(batch_size * 4 * 1024 * 1024)


def _allocate(nbytes: int) -> None:
    raise RuntimeError(
        f"CUDA out of memory. Tried to allocate {nbytes / 2**30:.2f} GiB (GPU 0; 15.78 GiB "
        "total capacity; 13.91 GiB already allocated; 1.12 GiB free)"
    )


if __name__ == "__main__":
    worker(json.loads(sys.argv[1]))
