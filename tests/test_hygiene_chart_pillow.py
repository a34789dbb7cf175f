"""The chart's first plotext import keeps Pillow out of plotext without hiding it from the
process: a thread importing PIL meanwhile (the media panel's worker) still gets it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, script_env

# The thread imports PIL once plotext has begun loading (it is in sys.modules from then on),
# and records what it got; the main thread loads the chart's plotext and draws with it.
SCRIPT = r"""
import json, sys, threading
seen = {}

def worker():
    while "plotext" not in sys.modules:
        pass
    seen["loading"] = "figure" not in vars(sys.modules["plotext"])  # its __init__ not done
    try:
        from PIL import Image
        seen["got"] = Image.__name__
    except ImportError as exc:
        seen["got"] = repr(exc)

assert "PIL" not in sys.modules
thread = threading.Thread(target=worker, daemon=True)
thread.start()
from tui.widgets.chart import plotext
plt = plotext()
thread.join(30)
from plotext._settings import system
f = plt.figure
f.clear()
f.plot_size(30, 8)
f.draw(f.signal([1, 2, 3], [3, 1, 2]).lines())
json.dump({**seen, "image": repr(system.Image), "drawn": len(str(f.build()))}, sys.stdout)
"""


def test_a_thread_importing_pillow_while_plotext_loads_gets_it(tmp_path):
    script = tmp_path / "race.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], cwd=REPO, env=script_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["loading"]  # the thread asked while plotext was still loading
    assert out["got"] == "PIL.Image"
    assert out["image"] == "None"  # and plotext itself still saw no Pillow
    assert out["drawn"] > 100
