"""Write tests/data/sample_root: the small, fixed run root the SVG snapshot tests open.

    .venv/bin/python tests/data/make_sample_root.py     # rewrites it; commit the result

A sweep (lr x seed, two optimizers), one failed, one killed, one crashed, and a run whose
name, tags and notes hold markup and escape sequences. Everything is deterministic: fixed
times, seeded noise, a host that is not this machine (the tests age the files' mtimes so
the crashed run reads crashed, not alive within the heartbeat window).
"""

from __future__ import annotations

import math
import random
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.test_tui_support import write_run  # noqa: E402

T0 = 1_700_000_000.0
HOST = "sample-host"


def curve(lr: float, seed: int, opt: str):  # type: ignore[no-untyped-def]
    rng = random.Random(f"{lr}-{seed}-{opt}")
    speed = {1e-3: 40.0, 3e-3: 25.0, 1e-2: 12.0}[lr] * (0.8 if opt == "adam" else 1.2)
    floor = 0.05 + (0.1 if lr == 1e-2 else 0.0)

    def metrics(step: int) -> dict[str, float]:
        loss = floor + math.exp(-step / speed) + rng.gauss(0, 0.02)
        return {"loss": round(loss, 5), "val/acc": round(1 - loss / 1.2, 5),
                "lr": lr * (1 - step / 200)}

    return metrics


def main(root: Path = HERE / "sample_root") -> None:
    shutil.rmtree(root, ignore_errors=True)
    i = 0
    for opt in ("adam", "sgd"):
        for lr in (1e-3, 3e-3, 1e-2):
            for seed in (0, 1):
                state = "finished"
                if (opt, lr, seed) == ("sgd", 1e-2, 1):
                    state = "failed"
                if (opt, lr, seed) == ("adam", 3e-3, 1):
                    state = "killed"
                write_run(root, f"s{i:03d}", project="sweep", name=f"{opt}-lr{lr:g}-s{seed}",
                          config={"lr": lr, "seed": seed, "optimizer": opt, "model": {"depth": 4}},
                          tags=["sweep", opt], notes=f"{opt} at lr={lr:g}", steps=120,
                          metrics=curve(lr, seed, opt), state=state, host=HOST,
                          t0=T0 + i * 300, dt=2.5)
                i += 1
    write_run(root, "crash1", project="sweep", name="adam-lr0.003-s2",
              config={"lr": 3e-3, "seed": 2, "optimizer": "adam", "model": {"depth": 4}},
              tags=["sweep"], notes="node lost", steps=60, metrics=curve(3e-3, 2, "adam"),
              state=None, pid=0, host=HOST, t0=T0 + i * 300, dt=2.5)
    write_run(root, "evil01", project="scratch", name="[bold]x[/] \x1b[31mred",
              tags=["[b]t", "\x1b]52;c;aGk=\x07"], notes="[red]n[/]\nsecond line",
              config={"lr": 1e-3}, steps=30, metrics=curve(1e-3, 9, "adam"), host=HOST,
              t0=T0 + (i + 1) * 300, dt=2.5)


if __name__ == "__main__":
    main()
