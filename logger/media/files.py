"""W&B's file-backed media: `Audio`, `Video`, `Html`, `Object3D`, `Molecule`, `Plotly`.

Each is stored under files/media/<subdir>/ and referenced by W&B's `_type` ("audio-file",
"video-file", ...). Raw audio becomes a 16-bit WAV (the standard library's `wave`), a point
cloud W&B's `.pts.json`, a plotly figure its JSON. Paths to existing files are copied as is.
"""

from __future__ import annotations

import io
import os
import sys
import wave
from typing import Any

from .base import Context, Media, media_json, module_of, read_source, to_numpy


class FileMedia(Media):
    """Media held as the bytes of one file, encoded when made (errors reported when logged)."""

    _subdir = "files"
    _types: frozenset[str] = frozenset()

    def __init__(self, caption: str | None = None) -> None:
        self._caption = None if caption is None else str(caption)
        self._data = b""
        self._ext = ""
        self._error: Exception | None = None
        self._extra: dict[str, Any] = {}

    def _load(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported with the key when logged
            self._error = exc

    def _from_path(self, path: Any) -> None:
        source = read_source(path)
        assert source is not None
        self._data = source[0]
        name = os.fspath(path).lower()
        self._ext = next((f".{t}" for t in sorted(self._types, key=len, reverse=True)
                          if name.endswith(f".{t}")), source[1])
        if self._types and self._ext.lstrip(".") not in self._types:
            raise ValueError(f"{type(self).__name__} file {path}: the type must be one of "
                             f"{', '.join(sorted(self._types))}")

    def to_ref(self, ctx: Context) -> dict[str, Any]:
        if self._error is not None:
            raise self._error
        ref: dict[str, Any] = {"_type": self._log_type, **self._extra}
        ref.update(ctx.store(self._subdir, self._data, self._ext))
        if self._caption is not None:
            ref["caption"] = self._caption
        return ref


class Audio(FileMedia):
    """Audio from a file path, or an array of samples in [-1, 1] with `sample_rate`."""

    _log_type, _subdir = "audio-file", "audio"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            self._load(self._from_path, data_or_path)
            return
        if sample_rate is None:
            raise ValueError('Argument "sample_rate" is required when instantiating Audio with raw data.')
        self._load(self._from_samples, data_or_path, int(sample_rate))

    def _from_samples(self, data: Any, rate: int) -> None:
        data = to_numpy(data)
        tolist = getattr(data, "tolist", None)
        samples = tolist() if callable(tolist) else list(data)
        frames = [s if isinstance(s, list) else [s] for s in samples]
        channels = len(frames[0]) if frames else 1
        pcm = bytearray()
        for frame in frames:
            for s in frame:
                v = max(-1.0, min(1.0, float(s)))
                pcm += int(round(v * 32767)).to_bytes(2, "little", signed=True)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(pcm))
        self._data, self._ext = buf.getvalue(), ".wav"
        self._extra = {"sample_rate": rate, "duration": len(frames) / float(rate)}


class Video(FileMedia):
    """A video from a file path (gif, mp4, webm, ogg), or a (T, C, H, W) array written as a GIF."""

    _log_type, _subdir = "video-file", "videos"
    _types = frozenset(("gif", "mp4", "webm", "ogg"))

    def __init__(self, data_or_path: Any, caption: str | None = None, fps: int | None = None,
                 format: str | None = None) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            self._load(self._from_path, data_or_path)
        else:
            self._load(self._from_frames, data_or_path, fps or 4)
        if self._ext:
            self._extra["format"] = self._ext.lstrip(".")

    def _from_frames(self, data: Any, fps: int) -> None:
        np = sys.modules.get("numpy")
        if np is None or module_of(data) not in ("numpy", "torch"):
            raise TypeError("Video() takes a path to a video file or a NumPy array (T, C, H, W)")
        from PIL import Image as PILImage  # encoding frames needs pillow, as W&B needs moviepy

        a = np.asarray(to_numpy(data))
        if a.ndim == 4 and a.shape[1] in (1, 3, 4):
            a = a.transpose(0, 2, 3, 1)  # W&B's layout is (time, channel, height, width)
        if a.ndim != 4:
            raise ValueError(f"a video array must be (T, C, H, W), not shape {a.shape}")
        a = np.clip(a, 0, 255).astype(np.uint8)
        frames = [PILImage.fromarray(f[..., 0] if f.shape[-1] == 1 else f[..., :3]) for f in a]
        buf = io.BytesIO()
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:],
                       duration=int(1000 / fps), loop=0)
        self._data, self._ext = buf.getvalue(), ".gif"
        self._extra = {"width": int(a.shape[2]), "height": int(a.shape[1])}



class Html(FileMedia):
    """An HTML page from a string, a file path or an open file."""

    _log_type, _subdir = "html-file", "html"

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False) -> None:
        super().__init__()
        if hasattr(data, "read"):
            data = data.read()
        if isinstance(data, str) and (data_is_not_path or not os.path.isfile(data)):
            self._data, self._ext = data.encode("utf-8"), ".html"
        else:
            self._load(self._from_path, data)
            self._ext = ".html"


class Object3D(FileMedia):
    """A point cloud (a NumPy array of N x 3, 4 or 6) or a 3-D file (obj, gltf, glb, stl, ...)."""

    _log_type, _subdir = "object3D-file", "object3D"
    _types = frozenset(("obj", "gltf", "glb", "babylon", "stl", "pts.json"))

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any) -> None:
        super().__init__(caption)
        if isinstance(data_or_path, (str, os.PathLike)):
            self._load(self._from_path, data_or_path)
        else:
            self._load(self._from_points, data_or_path)

    @classmethod
    def from_file(cls, data_or_path: Any, file_type: str | None = None) -> Object3D:
        return cls(data_or_path)

    @classmethod
    def from_numpy(cls, data: Any) -> Object3D:
        return cls(data)

    @classmethod
    def from_point_cloud(cls, points: Any, boxes: Any = (), vectors: Any = None,
                         point_cloud_type: str = "lidar/beta") -> Object3D:
        """W&B's lidar scene: points, boxes and vectors in one `.pts.json`."""
        return cls({"type": point_cloud_type, "points": points, "boxes": list(boxes),
                    "vectors": vectors if vectors is not None else []})

    def _from_points(self, data: Any) -> None:
        points: Any
        if isinstance(data, dict):
            from ..values import convert

            points = convert(data)
        else:
            points = to_numpy(data).tolist() if hasattr(data, "tolist") else list(data)
            if not points or not all(len(p) in (3, 4, 6) for p in points):
                raise ValueError("a point cloud must be N points of 3 (x y z), 4 (+category) or 6 (+rgb) values")
        self._data, self._ext = media_json(points), ".pts.json"


class Molecule(FileMedia):
    """A molecule file (pdb, pqr, mmcif, cif, sdf, mol2, ...)."""

    _log_type, _subdir = "molecule-file", "molecule"
    _types = frozenset(("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf"))

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any) -> None:
        super().__init__(caption)
        if hasattr(data_or_path, "read"):
            self._data, self._ext = _as_bytes(data_or_path.read()), ".pdb"
        else:
            self._load(self._from_path, data_or_path)


class Plotly(FileMedia):
    """A plotly figure (what a plotly `Figure` logged directly becomes), stored as its JSON."""

    _log_type, _subdir = "plotly-file", "plotly"

    def __init__(self, val: Any) -> None:
        super().__init__()
        self._load(self._from_figure, val)

    def _from_figure(self, fig: Any) -> None:
        if not callable(getattr(fig, "to_json", None)):
            raise TypeError(f"Plotly() takes a plotly figure, not {type(fig).__name__}")
        self._data, self._ext = _as_bytes(fig.to_json()), ".plotly.json"


def _as_bytes(text: Any) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)
