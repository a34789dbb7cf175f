"""Lists of media of one type, as W&B stores them: one file per item and one JSON for the list.

`[Image, Image, ...]` becomes `{"_type": "images/separated", "width", "height", "format",
"count", "filenames", "captions"}`; audio, video, html, 3-D objects and molecules get W&B's
own list shapes ("audio", "videos", ...). Any other list is stored item by item.
"""

from __future__ import annotations

from typing import Any

from .base import Context, Media

_LIST_TYPE = {"audio-file": ("audio", "audio"), "video-file": ("videos", "videos"),
              "html-file": ("html", "html"), "object3D-file": ("object3D", "objects"),
              "molecule-file": ("molecule", "molecules")}


def sequence_ref(ctx: Context, items: list[Media]) -> Any:
    """The history JSON for a list of same-typed media."""
    refs = [item.to_ref(ctx) for item in items]
    kind = refs[0].get("_type")
    captions = [getattr(item, "_caption", None) for item in items]
    if kind == "image-file":
        meta: dict[str, Any] = {
            "_type": "images/separated", "width": refs[0].get("width"), "height": refs[0].get("height"),
            "format": refs[0].get("format"), "count": len(refs), "filenames": [r["path"] for r in refs],
        }
        if captions[0] is not None:
            meta["captions"] = captions
        for name in ("masks", "boxes"):
            if any(name in r for r in refs):
                meta[f"all_{name}"] = [r.get(name) for r in refs]
        return meta
    if kind in _LIST_TYPE:
        list_type, field = _LIST_TYPE[kind]
        meta = {"_type": list_type, "count": len(refs), field: refs,
                "filenames": [r["path"] for r in refs]}
        if captions[0] is not None:
            meta["captions"] = captions
        if kind == "audio-file":
            meta["sampleRates"] = [r.get("sample_rate") for r in refs]
            meta["durations"] = [r.get("duration") for r in refs]
        return meta
    return refs
