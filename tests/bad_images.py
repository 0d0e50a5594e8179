"""Generated image files, good and bad, for the decoding tests (nothing binary in the repo).

Each maker writes one file into a folder and returns its file name. The colour
patches are at known places, so tests can check pixels and where overlays land.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

W, H = 64, 48
RED, GREEN, BLUE, GREY = (220, 30, 30), (30, 200, 40), (30, 40, 220), (128, 128, 128)
#: in stored pixels: a red patch at top-left, a blue one at bottom-right, on grey
RED_BOX = (4, 4, 20, 12)  # x, y, w, h
BLUE_BOX = (40, 30, 20, 14)


def patches(w: int = W, h: int = H) -> np.ndarray:
    """Grey with a red patch (``RED_BOX``) and a blue patch (``BLUE_BOX``): easy to locate."""
    a = np.empty((h, w, 3), np.uint8)
    a[:] = GREY
    for (x, y, bw, bh), c in ((RED_BOX, RED), (BLUE_BOX, BLUE)):
        a[y : y + bh, x : x + bw] = c
    return a


def jpeg(folder: Path, name: str, rgb: np.ndarray | None = None, quality: int = 95,
         orientation: int | None = None) -> str:
    im = Image.fromarray(patches() if rgb is None else rgb)
    kwargs: dict[str, object] = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    im.save(folder / name, format="JPEG", **kwargs)
    return name


def png(folder: Path, name: str, rgb: np.ndarray | None = None) -> str:
    Image.fromarray(patches() if rgb is None else rgb).save(folder / name, format="PNG")
    return name


def truncated(folder: Path, name: str, maker: Callable[[Path, str], str],
              keep: float = 0.6) -> str:
    maker(folder, name)
    p = folder / name
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])
    return name


def corrupt_png(folder: Path, name: str = "corrupt.png") -> str:
    """A PNG whose compressed pixel data is overwritten with garbage (header intact)."""
    png(folder, name, np.random.default_rng(1).integers(0, 255, (H, W, 3), np.uint8))
    p = folder / name
    data = bytearray(p.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 200] = bytes(range(190))
    p.write_bytes(bytes(data))
    return name


def corrupt_jpeg(folder: Path, name: str = "corrupt.jpg") -> str:
    """A JPEG whose Huffman tables are garbage: the header opens, decoding fails."""
    jpeg(folder, name)
    p = folder / name
    data = bytearray(p.read_bytes())
    start = data.index(b"\xff\xc4") + 4  # DHT segment contents
    data[start : start + 40] = b"\xff" * 40
    p.write_bytes(bytes(data))
    return name


def not_an_image(folder: Path, name: str = "text.jpg") -> str:
    (folder / name).write_bytes(b"this is not an image at all\n" * 4)
    return name


def empty(folder: Path, name: str = "empty.jpg") -> str:
    (folder / name).write_bytes(b"")
    return name


def png_named_jpg(folder: Path, name: str = "really_a_png.jpg") -> str:
    return png(folder, name)


def grey16(folder: Path, name: str = "grey16.png") -> str:
    """A 16-bit greyscale PNG: columns of 0, 1000, 32768 and 65535 (→ 0, 4, 128, 255)."""
    row = np.repeat(np.array([0, 1000, 32768, 65535], np.uint16), W // 4)
    Image.fromarray(np.tile(row, (H, 1))).save(folder / name)
    return name


def rgb16(folder: Path, name: str = "rgb16.png") -> str:
    """A 16-bit RGB PNG of :func:`patches` (each value × 257), written by OpenCV."""
    a = patches().astype(np.uint16) * 257
    cv2.imwrite(str(folder / name), np.ascontiguousarray(a[..., ::-1]))
    return name


def palette_transparent(folder: Path, name: str = "palette.png",
                        alpha_table: bool = True) -> str:
    """A palette PNG of :func:`patches` whose grey entry is (half) transparent.

    With ``alpha_table`` the transparency is a tRNS table of several alphas (the
    case Pillow warns about when converting to RGB), else one transparent index.
    """
    im = Image.fromarray(patches()).quantize(colors=3, method=Image.Quantize.MAXCOVERAGE)
    pal = im.getpalette() or []
    colours = [tuple(pal[i * 3 : i * 3 + 3]) for i in range(3)]
    grey = colours.index(GREY)
    if alpha_table:
        im.info["transparency"] = bytes(128 if i == grey else 255 for i in range(3))
    else:
        im.info["transparency"] = grey
    im.save(folder / name)
    return name


def grey_l(folder: Path, name: str = "grey_l.png") -> str:
    Image.fromarray(patches()).convert("L").save(folder / name)
    return name


def grey_la(folder: Path, name: str = "grey_la.png") -> str:
    im = Image.fromarray(patches()).convert("L")
    la = Image.merge("LA", (im, Image.new("L", im.size, 100)))
    la.save(folder / name)
    return name


def cmyk_jpeg(folder: Path, name: str = "cmyk.jpg") -> str:
    Image.fromarray(patches()).convert("CMYK").save(folder / name, quality=95)
    return name


def bomb_png(folder: Path, name: str = "bomb.png", side: int = 30_000) -> str:
    """A real, valid 30,000 × 30,000 1-bit PNG (900 megapixels) of ~100 kB.

    Written with zlib directly (a row of zeros at a time): quick and small.
    """
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    chunks = [comp.compress(row * 1000) for _ in range(side // 1000)]
    chunks.append(comp.compress(row * (side % 1000)))
    chunks.append(comp.flush())
    idat = b"".join(chunks)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                                + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return name


def bomb_jpeg(folder: Path, name: str = "bomb.jpg", side: int = 30_000) -> str:
    """A JPEG whose frame header claims ``side`` × ``side`` pixels (the data is small)."""
    jpeg(folder, name)
    p = folder / name
    data = bytearray(p.read_bytes())
    sof = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    p.write_bytes(bytes(data))
    return name
