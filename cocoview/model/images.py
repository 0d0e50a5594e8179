"""Reading image files for display: any bad file becomes a message, never a crash.

One decoder serves the canvas, the thumbnails, ``cocoview render`` and
validation, so they all agree on what a file holds
(``docs/decisions/images.md``):

- The format is recognised from the content, not the name: a PNG named ``.jpg``
  is shown, with an info note.
- Every mode becomes 8-bit RGB. 16-bit greys are scaled (v / 257), not clipped.
  Palette images with transparency go through RGBA, so Pillow does not warn.
  Alpha is dropped, so pixels keep their stored colour (what a training
  pipeline's ``convert("RGB")`` sees). Pillow converts CMYK.
- A truncated JPEG shows the part that could be decoded and is still reported as
  ``image-truncated``. To do this, an end-of-image marker is appended to a copy
  of the bytes, so no global Pillow flag is touched. A truncated PNG cannot be
  shown.
- An image with more than :data:`MAX_PIXELS` stored pixels is treated as a
  decompression bomb and never decoded. Large images are decoded at reduced
  size (a JPEG by DCT scaling).
- EXIF orientation is applied only when the JSON's width/height match the
  rotated image and not the stored one. Otherwise the stored pixels are used,
  which is what COCO coordinates assume.
- A picture whose size disagrees with the JSON is still shown and is reported.
  Callers scale it to the JSON's size, because the annotations use the JSON's
  coordinates.
"""

from __future__ import annotations

import io
import math
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import cv2
import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

from cocoview.model.errors import Severity
from cocoview.model.paths import ImagePath

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset

#: Stored images with more pixels than this are never decoded (a decompression
#: bomb). This is Pillow's own DecompressionBombError threshold (2 × its default
#: ``MAX_IMAGE_PIXELS``). We check it ourselves so no global Pillow setting is needed.
MAX_PIXELS = 178_956_970
#: An image with more pixels than this is decoded at reduced size for the canvas.
LARGE_PIXELS = 24_000_000
EXIF_ORIENTATION = 0x0112

_SUFFIX_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
                   ".png": "PNG", ".bmp": "BMP", ".gif": "GIF", ".webp": "WEBP",
                   ".tif": "TIFF", ".tiff": "TIFF"}
_EOI = b"\xff\xd9"  # JPEG end-of-image marker
_SWAPS_AXES = (5, 6, 7, 8)  # EXIF orientations that turn the image by 90°


@dataclass(frozen=True)
class ImageNote:
    """A problem (or a decision worth telling) about one image file."""

    severity: Severity
    code: str
    message: str


@dataclass
class Decoded:
    """An image file decoded for display, with everything that was wrong with it."""

    rgb: np.ndarray | None  # (h, w, 3) uint8 as shown (orientation applied); None: not shown
    notes: list[ImageNote] = field(default_factory=list)
    failure: ImageNote | None = None  # why nothing is shown (also in ``notes``)
    #: (w, h) of the full-resolution picture as shown; ``rgb`` may be smaller (reduced)
    size: tuple[int, int] | None = None

    @classmethod
    def failed(cls, note: ImageNote, notes: list[ImageNote] | None = None,
               size: tuple[int, int] | None = None) -> Decoded:
        return cls(None, [*(notes or []), note], note, size)

    @property
    def error(self) -> str:
        """Why the image is not shown ("" when it is)."""
        if self.rgb is not None:
            return ""
        return self.failure.message if self.failure is not None else "image not available"

    @property
    def notice(self) -> str:
        """What is wrong with a picture that is shown anyway (truncated, other size)."""
        if self.rgb is None:
            return ""
        return "\n".join(n.message for n in self.notes if n.severity >= Severity.WARNING)


# ----- decisions (pure) --------------------------------------------------------------
def orientation_decision(orientation: int, stored: tuple[int, int],
                         json_size: tuple[int, int]) -> tuple[bool, str]:
    """Whether to apply EXIF ``orientation`` to a picture of ``stored`` (w, h), and why.

    It is applied only when the JSON's (w, h) matches the rotated picture and
    not the stored one. A turn that keeps the size (2, 3, 4, or a square
    picture) is never applied: the size cannot tell, and COCO coordinates refer
    to the stored pixels. Returns (apply, note); the note is "" without an
    orientation.
    """
    if orientation == 1:
        return False, ""
    o = f"EXIF orientation {orientation}"
    if not 1 <= orientation <= 8:
        return False, f"{o} is not a valid value (1–8); ignored"
    w, h = stored
    rotated = (h, w) if orientation in _SWAPS_AXES else (w, h)
    if json_size[0] <= 0 or json_size[1] <= 0:
        return False, f"{o} ignored (the JSON gives no width/height)"
    if json_size == rotated and json_size != stored:
        return True, f"{o} applied (JSON size matches the rotated image)"
    if json_size == stored:
        return False, f"{o} ignored (JSON size matches the stored pixels)"
    return False, f"{o} ignored (JSON size matches neither the stored pixels nor the rotated " \
                  "image)"


def orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """``rgb`` turned as EXIF ``orientation`` says (what ``ImageOps.exif_transpose`` does)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return rgb if op is None else np.ascontiguousarray(op(rgb))


def outside_note(ip: ImagePath, allowed: bool) -> ImageNote:
    """The problem of a ``file_name`` that leads outside the images folder."""
    what = "opened because that is allowed" if allowed else "not opened"
    return ImageNote(Severity.WARNING, "image-path-outside",
                     f"image outside the images folder, {what}: {ip.outside}")


# ----- decoding ------------------------------------------------------------------------
def decode(path: Path | None, json_width: int = -1, json_height: int = -1, *,
           max_pixels: int | None = None, out_size: tuple[int, int] | None = None,
           max_side: int | None = None, budget: int = MAX_PIXELS,
           header_only: bool = False) -> Decoded:
    """Decode ``path`` for display. The JSON's size decides EXIF orientation and is checked.

    The result is at full resolution unless one of these asks for less:
    ``max_pixels`` reduces it by a whole factor to at most that many pixels,
    ``out_size`` gives exactly (w, h) in the shown orientation, and
    ``max_side`` makes the longest side that long with the picture's own aspect.
    A JPEG is DCT-scaled toward the wanted size while it is decoded. Whatever
    still needs more than ``budget`` pixels after that is not decoded.
    ``header_only`` reads no pixels and just checks the header.
    """
    if path is None:
        return Decoded.failed(ImageNote(Severity.ERROR, "no-file-name",
                                        "the image has no file name"))
    try:
        st = path.stat()
    except FileNotFoundError:
        return Decoded.failed(ImageNote(Severity.WARNING, "image-missing",
                                        f"image file not found: {path}"))
    except OSError as exc:
        return Decoded.failed(_unreadable(path, exc.strerror or str(exc)))
    except ValueError as exc:  # e.g. a NUL character in the file name
        return Decoded.failed(_unreadable(path, str(exc)))
    if not stat.S_ISREG(st.st_mode):
        return Decoded.failed(_unreadable(path, "not a file"))
    if st.st_size == 0:
        return Decoded.failed(ImageNote(Severity.ERROR, "image-empty",
                                        f"image file is empty (0 bytes): {path}"))
    json_size = (int(json_width), int(json_height))
    try:
        with path.open("rb") as fp:
            return _decode(fp, path, json_size, max_pixels, out_size, max_side, budget,
                           header_only)
    except UnidentifiedImageError:
        return Decoded.failed(_unreadable(path, "not an image format that can be read"))
    except Exception as exc:  # any decoder failure on damaged data is a message, not a crash
        return Decoded.failed(_unreadable(path, _reason(exc)))


def check_image(path: Path, json_width: int, json_height: int,
                decode_pixels: bool = True) -> list[ImageNote]:
    """The problems of one image file. With ``decode_pixels`` the data is decoded too,
    cheaply at reduced size, which finds truncated and corrupt files. Otherwise only
    the header is read."""
    if decode_pixels:
        d = decode(path, json_width, json_height, max_side=64)
    else:
        d = decode(path, json_width, json_height, header_only=True)
    return d.notes


def open_image(ds: Dataset, image_id: int, *, allow_outside: bool = False,
               max_pixels: int | None = None, out_size: tuple[int, int] | None = None,
               max_side: int | None = None, budget: int = MAX_PIXELS) -> Decoded:
    """Decode the image of ``image_id`` (see :func:`decode`).

    A ``file_name`` that leads outside the images folder is not opened unless
    ``allow_outside`` is set.
    """
    row = ds.image_row(image_id)
    ip = ds.image_file(image_id)
    if ip.path is None:
        return Decoded.failed(ImageNote(Severity.ERROR, "no-file-name",
                                        "the image has no file name"))
    first: list[ImageNote] = []
    if ip.outside:
        note = outside_note(ip, allow_outside)
        if not allow_outside:
            return Decoded.failed(note)
        first.append(note)
    d = decode(ip.path, int(ds.image_width[row]), int(ds.image_height[row]),
               max_pixels=max_pixels, out_size=out_size, max_side=max_side, budget=budget)
    d.notes[:0] = first
    return d


def _unreadable(path: Path, why: str) -> ImageNote:
    return ImageNote(Severity.ERROR, "image-unreadable", f"cannot read image {path}: {why}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _open(fp: BinaryIO) -> Image.Image:
    """Open without Pillow's bomb check (we make our own) for the formats that matter.

    PNG and JPEG are recognised from their signatures and opened by their
    plugins directly. That avoids Pillow's DecompressionBombWarning, whose only
    local remedy, ``warnings.catch_warnings``, is not thread-safe. Pillow's
    ``Image.open`` still opens the other formats, with its own check.
    """
    head = fp.read(8)
    fp.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PngImagePlugin.PngImageFile(fp)
    if head.startswith(b"\xff\xd8\xff"):
        return JpegImagePlugin.JpegImageFile(fp)
    return Image.open(fp)


def _orientation(im: Image.Image) -> int:
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # PNG's getexif() would decode the whole image to look for a late eXIf
    try:
        value = im.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block is no reason not to show the picture
        return 1
    return value if isinstance(value, int) else 1


def _decode(fp: BinaryIO, path: Path, json_size: tuple[int, int], max_pixels: int | None,
            out_size: tuple[int, int] | None, max_side: int | None, budget: int,
            header_only: bool) -> Decoded:
    im = _open(fp)
    notes: list[ImageNote] = []
    fmt = im.format or "?"
    named = _SUFFIX_FORMATS.get(path.suffix.lower())
    if named is not None and named != fmt:
        notes.append(ImageNote(Severity.INFO, "image-format",
                               f"image file {path} holds {fmt} data, not {named} as its name "
                               "says"))
    w, h = im.size
    if w <= 0 or h <= 0:
        return Decoded.failed(_unreadable(path, f"the header gives a size of {w}×{h}"), notes)
    if w * h > MAX_PIXELS:
        return Decoded.failed(ImageNote(
            Severity.WARNING, "image-too-large",
            f"image too large to decode: {path} is {w}×{h} ({w * h / 1e6:,.0f} megapixels, "
            f"over the {MAX_PIXELS / 1e6:.0f}-megapixel limit against decompression bombs)"),
            notes)
    orientation = _orientation(im)
    apply, why = orientation_decision(orientation, (w, h), json_size)
    if why:
        notes.append(ImageNote(Severity.INFO, "exif-orientation", why))
    shown = (h, w) if apply and orientation in _SWAPS_AXES else (w, h)
    jw, jh = json_size
    if jw > 0 and jh > 0 and shown != (jw, jh):
        notes.append(ImageNote(Severity.ERROR, "image-size",
                               f"image file {path} is {shown[0]}×{shown[1]}, the JSON says "
                               f"{jw}×{jh}; shown scaled to the JSON's size"))
    if header_only:
        return Decoded(None, notes, None, shown)

    target = _target(shown, max_pixels, out_size, max_side)
    if target is not None and im.format == "JPEG":
        dw, dh = (target[1], target[0]) if apply and orientation in _SWAPS_AXES else target
        im.draft(None, (dw, dh))  # the smallest DCT scale (1/2 … 1/8) still ≥ the target
    if im.width * im.height > budget:
        return Decoded.failed(ImageNote(
            Severity.WARNING, "image-too-large",
            f"image too large to decode here: {path} is {w}×{h}"), notes, shown)
    try:
        im.load()
    except OSError as exc:
        if "truncated" not in str(exc):
            raise
        partial = _load_truncated(path, im, notes)
        if partial is None:
            return Decoded.failed(ImageNote(
                Severity.ERROR, "image-truncated",
                f"image file is truncated, nothing to show: {path}"), notes, shown)
        im = partial
    rgb = to_rgb(im)
    if apply:
        rgb = orient(rgb, orientation)
    if target is not None and (rgb.shape[1], rgb.shape[0]) != target:
        rgb = cv2.resize(rgb, target, interpolation=cv2.INTER_AREA)
    return Decoded(rgb, notes, None, shown)


def _target(shown: tuple[int, int], max_pixels: int | None, out_size: tuple[int, int] | None,
            max_side: int | None) -> tuple[int, int] | None:
    """The (w, h) to deliver, or None for full resolution."""
    w, h = shown
    if out_size is not None:
        return max(1, out_size[0]), max(1, out_size[1])
    if max_side is not None:
        s = max_side / max(w, h)
        return max(1, round(w * s)), max(1, round(h * s))
    if max_pixels is not None and w * h > max_pixels:
        f = math.ceil(math.sqrt(w * h / max_pixels))
        return max(1, w // f), max(1, h // f)
    return None


def _load_truncated(path: Path, first: Image.Image,
                    notes: list[ImageNote]) -> Image.Image | None:
    """The decodable part of a truncated JPEG (None for other formats, or if none is).

    The bytes get an end-of-image marker, so libjpeg finishes what it has.
    Pillow's global ``LOAD_TRUNCATED_IMAGES`` would do the same for every image
    in the process, from every thread.
    """
    if first.format != "JPEG":
        return None
    data = path.read_bytes() + _EOI
    im = JpegImagePlugin.JpegImageFile(io.BytesIO(data))
    if first.size != im.size:
        im.draft(None, first.size)
    try:
        im.load()
    except Exception:
        return None
    notes.append(ImageNote(Severity.ERROR, "image-truncated",
                           f"image file is truncated: {path}; the part that could be decoded "
                           "is shown"))
    return im


def to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode as (h, w, 3) uint8 RGB, without clipping or warnings."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im)
    if mode.startswith("I;16") or mode == "I":
        a = np.clip(np.asarray(im), 0, 65535).astype(np.uint32)
        grey = ((a + 128) // 257).astype(np.uint8)  # 0…65535 onto 0…255
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        a = np.asarray(im, np.float64)
        finite = np.isfinite(a)
        lo, hi = (float(a[finite].min()), float(a[finite].max())) if finite.any() else (0, 1)
        grey = np.clip((np.where(finite, a, lo) - lo) * (255 / max(hi - lo, 1e-12)), 0, 255)
        return np.repeat(grey.round().astype(np.uint8)[..., None], 3, axis=2)
    if mode in ("P", "PA") and (mode == "PA" or "transparency" in im.info):
        # through RGBA: converting a palette with transparency straight to RGB warns
        return np.ascontiguousarray(np.asarray(im.convert("RGBA"))[..., :3])
    return np.asarray(im.convert("RGB"))


# ----- small helpers kept for callers ----------------------------------------------------
@dataclass
class LoadedImage:
    rgb: np.ndarray | None  # (h, w, 3) uint8, None when unreadable
    error: str = ""


def load_rgb(path: Path | None) -> LoadedImage:
    """Full-resolution RGB of ``path`` with the stored orientation (no JSON to compare)."""
    d = decode(path)
    return LoadedImage(d.rgb, d.error)


def placeholder(width: int, height: int, max_pixels: int | None = None) -> np.ndarray:
    """A neutral grey canvas of the JSON's size with a light checker to read as 'no image'.

    With ``max_pixels`` it is reduced by a whole factor to at most that many pixels
    (a JSON may claim any size); the checker keeps its look at the JSON's scale.
    """
    w, h = max(width, 1), max(height, 1)
    period = 32
    if max_pixels is not None and w * h > max_pixels:
        f = math.ceil(math.sqrt(w * h / max_pixels))
        w, h, period = max(1, w // f), max(1, h // f), max(1, round(32 / f))
        # a very long, thin claim stays long after an even reduction: cap each side too
        w, h = min(w, max_pixels), min(h, max_pixels)
    # broadcast rows × columns: 1 byte per pixel, not mgrid's two int64 planes
    checker = ((np.arange(h)[:, None] // period + np.arange(w)[None, :] // period) % 2)
    grey = (96 + 16 * checker.astype(np.uint8))
    return np.repeat(grey[..., None], 3, axis=2)
