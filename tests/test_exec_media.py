"""Under `runwatch exec`, W&B's media modules are real submodules of the `wandb` shim:
`import wandb.plot`, `from wandb.data_types import Image`, `from wandb.sdk.data_types.image
import Image` (what integrations and scripts import), all logging through logger.media."""

from __future__ import annotations

import logger
from tests.exec_support import ok, run_script

SCRIPT = """
    import sys
    import wandb.plot, wandb.sklearn, wandb.data_types
    from wandb.data_types import Histogram, Image, Table, WBValue
    from wandb.sdk.data_types.image import Image as SdkImage
    from wandb.sdk.data_types.table import Table as SdkTable
    from wandb.sdk.data_types.base_types.media import Media
    from wandb.sdk.data_types.base_types.wb_value import WBValue as SdkWBValue
    from wandb.plot import line
    import logger.media.plot

    assert Image is SdkImage is wandb.Image and Table is SdkTable is wandb.Table
    assert WBValue is SdkWBValue is Media and isinstance(Image([[0, 255]]), WBValue)
    # real modules of the shim, not logger's modules under another name
    assert wandb.plot.__name__ == "wandb.plot" and sys.modules["wandb.plot"] is wandb.plot
    assert wandb.plot is not logger.media.plot and wandb.plot.line is logger.media.plot.line
    assert wandb.sdk.data_types.image.__name__ == "wandb.sdk.data_types.image"
    assert not any(isinstance(m, type(sys)) and m.__name__.startswith("logger")
                   for k, m in sys.modules.items() if k.startswith("wandb"))
    try:
        wandb.data_types.ImageMask
    except AttributeError as exc:
        assert "wandb.data_types.ImageMask" in str(exc) and "runwatch" in str(exc), exc
    else:
        raise AssertionError("an unoffered data type resolved")

    run = wandb.init(project="media")
    table = Table(columns=["x", "y"], data=[[0, 1.0], [1, 0.5]])
    run.log({"chart": line(table, "x", "y", title="loss"), "img": SdkImage([[0, 255], [255, 0]]),
             "h": Histogram([1, 2, 2, 3])})
    wandb.sklearn.plot_confusion_matrix([0, 1, 1], [0, 1, 0], ["a", "b"])
    wandb.finish()
"""


def test_wandb_media_submodules_under_exec(tmp_path, root):
    ok(run_script(tmp_path, SCRIPT, RUNWATCH_DIR=str(root)))
    (run,) = logger.Api(root).runs("media")
    row = next(iter(run.scan_history()))
    assert row["img"]["_type"] == "image-file" and row["h"]["_type"] == "histogram"
    assert {"chart", "confusion_matrix"} <= set(run.charts)


def test_a_bare_import_wandb_reaches_the_shims_submodules(tmp_path, root):
    script = """
        import sys, wandb
        assert wandb.plot.__name__ == "wandb.plot", wandb.plot
        assert wandb.sklearn.__name__ == "wandb.sklearn" and wandb.data_types.__name__ == "wandb.data_types"
        assert wandb.sdk.data_types.__name__ == "wandb.sdk.data_types"
        assert wandb.sdk.data_types.histogram.Histogram is wandb.Histogram
        print("ok")
    """
    assert ok(run_script(tmp_path, script, RUNWATCH_DIR=str(root))).strip() == "ok"
