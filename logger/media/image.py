"""`Image`: W&B's image type, stored as a PNG (or the file it was given) under files/media/images.

The ref in the history row is W&B's: `{"_type": "image-file", "format", "width", "height",
"path", "sha256", "size"}` plus `caption`, `masks` and `boxes` when given. The image is
encoded when it is made (as W&B does, so a buffer the script reuses cannot change it); a
failure is kept and reported, with the key, when the image is logged, never raised.
"""

from __future__ import annotations

import io
from typing import Any

from .base import Context, Media, media_json, module_of, read_source
from .pixels import array_pixels, mask_pixels
from .png import encode_png, image_info


class Image(Media):
    """An image from a NumPy/torch array, PIL image, matplotlib figure or image file path."""

    _log_type = "image-file"

    def __init__(self, data_or_path: Any, mode: str | None = None, caption: str | None = None,
                 grouping: int | None = None, classes: Any = None, boxes: dict[str, Any] | None = None,
                 masks: dict[str, Any] | None = None, file_type: str | None = None,
                 normalize: bool = True) -> None:
        self._caption = None if caption is None else str(caption)
        self._grouping = grouping
        self._boxes = boxes
        self._masks = masks
        self._classes = classes
        self._error: Exception | None = None
        self._data = b""
        self._ext = ".png"
        self.format = "png"
        self.width: int | None = None
        self.height: int | None = None
        try:
            self._encode(data_or_path, mode, file_type)
        except Exception as exc:  # noqa: BLE001 - reported with the key when logged
            self._error = exc

    def _encode(self, data: Any, mode: str | None, file_type: str | None) -> None:
        if isinstance(data, Image):
            self._data, self._ext, self.format = data._data, data._ext, data.format
            self.width, self.height, self._error = data.width, data.height, data._error
            return
        source = read_source(data)
        if source is not None:
            self._data, self._ext = source
            fmt, self.width, self.height = image_info(self._data)
            self.format = fmt or self._ext.lstrip(".")
            return
        if module_of(data) == "PIL":
            self._data = _pil_bytes(data, mode, file_type or "png")
            self.format = (file_type or "png").lower().replace("jpg", "jpeg")
            self._ext = "." + self.format.replace("jpeg", "jpg")
            self.width, self.height = data.size
            return
        if module_of(data) == "matplotlib" or _is_pyplot(data):
            self._data = figure_png(data)
        else:
            self._data = encode_png(*_sized(self, array_pixels(data, mode)))
        self.format = "png"
        self.width, self.height = image_info(self._data)[1:]

    @property
    def image(self) -> Any:
        """The image as a PIL image (W&B's attribute), for scripts that read it back."""
        from PIL import Image as PILImage  # only when asked for: needs pillow

        return PILImage.open(io.BytesIO(self._data))

    def to_ref(self, ctx: Context) -> dict[str, Any]:
        if self._error is not None:
            raise self._error
        ref: dict[str, Any] = {"_type": self._log_type, "format": self.format}
        if self.width is not None:
            ref["width"], ref["height"] = self.width, self.height
        ref.update(ctx.store("images", self._data, self._ext))
        if self._caption is not None:
            ref["caption"] = self._caption
        if self._grouping:
            ref["grouping"] = self._grouping
        if self._classes is not None:
            classes = self._classes if isinstance(self._classes, Classes) else Classes(self._classes)
            ref["classes"] = classes.to_json()
        if self._masks:
            ref["masks"] = {name: _mask_ref(ctx, name, m) for name, m in self._masks.items()}
        if self._boxes:
            ref["boxes"] = {name: _boxes_ref(ctx, name, b) for name, b in self._boxes.items()}
        return ref

    def __repr__(self) -> str:
        return f"<Image {self.width}x{self.height} {self.format}>"


class Classes:
    """W&B's class set for masks and boxes: `Classes([{"id": 1, "name": "cat"}, ...])`."""

    _log_type = "classes"

    def __init__(self, class_set: Any) -> None:
        from ..values import convert

        self._class_set = convert(class_set)

    def to_json(self, run_or_artifact: Any = None) -> dict[str, Any]:
        return {"_type": self._log_type, "class_set": self._class_set}


def _sized(image: Image, pixels: tuple[int, int, int, bytes]) -> tuple[int, int, int, bytes]:
    image.width, image.height = pixels[0], pixels[1]
    return pixels


def _is_pyplot(obj: Any) -> bool:
    """`wandb.log({"chart": plt})`: the pyplot module itself, whose current figure is meant."""
    return getattr(obj, "__name__", None) == "matplotlib.pyplot"


def figure_png(fig: Any) -> bytes:
    """A matplotlib figure (or pyplot, meaning its current figure) as PNG bytes."""
    if _is_pyplot(fig):
        fig = fig.gcf()
    figure = getattr(fig, "figure", fig)  # an Axes logged in place of its figure
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    return buf.getvalue()


def _pil_bytes(img: Any, mode: str | None, file_type: str) -> bytes:
    if mode is not None and img.mode != mode:
        img = img.convert(mode)
    fmt = file_type.upper().replace("JPG", "JPEG")
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _mask_ref(ctx: Context, name: str, mask: Any) -> dict[str, Any]:
    """A segmentation mask: its class ids as a greyscale PNG (W&B's `mask` type)."""
    if not isinstance(mask, dict):
        raise TypeError(f"mask {name!r} must be a dict with 'mask_data' or 'path'")
    if "path" in mask:
        source = read_source(mask["path"])
        assert source is not None
        data = source[0]
    else:
        data = encode_png(*mask_pixels(mask["mask_data"]))
    ref: dict[str, Any] = {"_type": "mask", **ctx.child(f"{ctx.key}/mask").store("images", data, ".mask.png")}
    if "class_labels" in mask:
        ref["class_labels"] = {str(k): str(v) for k, v in mask["class_labels"].items()}
    return ref


def _boxes_ref(ctx: Context, name: str, boxes: Any) -> dict[str, Any]:
    """Bounding boxes: W&B's `boxes2D` JSON file, with the class labels kept in the ref too."""
    from ..values import convert

    if not isinstance(boxes, dict) or "box_data" not in boxes:
        raise TypeError(f"boxes {name!r} must be a dict with 'box_data' (and 'class_labels')")
    body = {"box_data": convert(boxes["box_data"]),
            "class_labels": {str(k): str(v) for k, v in (boxes.get("class_labels") or {}).items()}}
    stored = ctx.child(ctx.key).store("metadata/boxes2D", media_json(body), ".boxes2D.json")
    return {"_type": "boxes2D", **stored, "class_labels": body["class_labels"],
            "count": len(body["box_data"])}
