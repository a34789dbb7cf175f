"""Arrays as 8-bit pixels, as W&B's `Image` reads them, without importing NumPy or PIL.

W&B's rules: a (C, H, W) array with C in 1/3/4 is channels-first; floats are scaled to 0-255
(a range with negatives is shifted to 0-1 first); a trailing channel of 1 is dropped. NumPy
arrays (and torch tensors, through `.numpy()`) use NumPy, which the script already imported;
nested Python lists take a pure-Python path.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from .base import module_of, to_numpy
from .png import MODES

Pixels = tuple[int, int, int, bytes]  # width, height, channels, row-major bytes
_MODE_CHANNELS = {v: k for k, v in MODES.items()}


def array_pixels(data: Any, mode: str | None = None) -> Pixels:
    """A NumPy array, torch tensor or nested list as (width, height, channels, bytes)."""
    if module_of(data) in ("numpy", "torch", "jax", "jaxlib"):
        return _numpy_pixels(to_numpy(data), mode)
    if isinstance(data, (list, tuple)):
        return _list_pixels(data, mode)
    raise TypeError(
        f"Image() takes a NumPy array, a torch tensor, a PIL image, a matplotlib figure or a "
        f"path to an image file, not {type(data).__name__}")


def _numpy_pixels(a: Any, mode: str | None) -> Pixels:
    np = sys.modules["numpy"]
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (2, 3, 4)):
        raise ValueError(f"an image array must be (H, W), (H, W, C) or (C, H, W), not shape {a.shape}")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(a.min()), float(a.max())
        if lo < 0:
            a = (a - lo) / ((hi - lo) or 1.0)
            hi = 1.0
        if hi <= 1.0:
            a = a * 255
        a = np.clip(a, 0, 255).astype(np.uint8)
    a = _numpy_mode(np, a, mode)
    height, width = int(a.shape[0]), int(a.shape[1])
    channels = 1 if a.ndim == 2 else int(a.shape[2])
    return width, height, channels, np.ascontiguousarray(a).tobytes()


def _numpy_mode(np: Any, a: Any, mode: str | None) -> Any:
    have = 1 if a.ndim == 2 else a.shape[2]
    want = _check_mode(mode, have)
    if want == have:
        return a
    if want == 1:  # ITU-R 601-2 luma, as PIL's convert("L")
        rgb = a[..., :3].astype(np.float64)
        return (rgb @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)
    grey = a if a.ndim == 2 else a[..., 0]
    rgb = np.stack([grey] * 3, axis=-1) if have in (1, 2) else a[..., :3]
    if want == 3:
        return rgb
    alpha = a[..., 1] if have == 2 else (a[..., 3] if have == 4 else np.full(rgb.shape[:2], 255, np.uint8))
    return np.concatenate([rgb, alpha[..., None]], axis=-1) if want == 4 else np.stack([grey, alpha], -1)


def _check_mode(mode: str | None, have: int) -> int:
    if mode is None:
        return have
    want = _MODE_CHANNELS.get(mode)
    if want is None:
        raise ValueError(f"Image mode {mode!r}: use one of {', '.join(_MODE_CHANNELS)}")
    return want


def _list_pixels(rows: Any, mode: str | None) -> Pixels:
    height = len(rows)
    width = len(rows[0]) if height else 0
    if not height or not width:
        raise ValueError("an image needs at least one row and one column")
    first = rows[0][0]
    channels = len(first) if isinstance(first, (list, tuple)) else 1
    flat: list[float] = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"image rows differ in length ({len(row)} and {width})")
        for px in row:
            if channels == 1:
                flat.append(float(px))
            else:
                flat.extend(float(v) for v in px)
    if len(flat) != width * height * channels:
        raise ValueError("image pixels differ in their number of channels")
    flat = [0.0 if not math.isfinite(v) else v for v in flat]
    lo, hi = min(flat), max(flat)
    if lo < 0:
        flat = [(v - lo) / ((hi - lo) or 1.0) for v in flat]
        hi = 1.0
    scale = 255.0 if hi <= 1.0 else 1.0
    data = bytes(min(255, max(0, int(v * scale))) for v in flat)
    if _check_mode(mode, channels) != channels:
        raise ValueError(f"Image mode {mode!r} of a list of {channels}-channel pixels: pass a NumPy array")
    return width, height, channels, data


def mask_pixels(data: Any) -> Pixels:
    """A 2-D array of class ids (0-255) as greyscale pixels: ids are kept, never rescaled."""
    if module_of(data) in ("numpy", "torch", "jax", "jaxlib"):
        np = sys.modules["numpy"]
        a = np.asarray(to_numpy(data))
        if a.ndim != 2:
            raise ValueError(f"mask_data must be a 2-D array of class ids, not shape {a.shape}")
        a = np.ascontiguousarray(np.clip(a, 0, 255).astype(np.uint8))
        return int(a.shape[1]), int(a.shape[0]), 1, a.tobytes()
    rows = [[min(255, max(0, int(v))) for v in row] for row in data]
    return len(rows[0]), len(rows), 1, bytes(v for row in rows for v in row)
