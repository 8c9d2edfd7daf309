"""The COCO panoptic PNG codec: ``id = R + 256 G + 256^2 B``.

The one implementation of the encoding used by the dataset loaders, the
evaluator, the converters and the synthetic generator. Segment id
:data:`VOID_ID` (black) marks pixels of no segment; ids range over
``[0, MAX_PANOPTIC_ID]``.

Every decoded id map is ``np.uint32`` (H, W): the evaluator keeps the PNG
alpha in the top byte (``keep_alpha``), which only an unsigned 32-bit value
holds, and the loaders index lookup tables with it directly. Decoding packs
the RGBA bytes of each pixel into one little-endian 32-bit word, so it costs
one colour conversion (or none with libspng) and no integer arithmetic.

Pure numpy / OpenCV, with libspng (``pyspng``) as an optional faster decoder;
no registries, nothing from the dataset, evaluation or offline packages.
"""
import os
import os.path as osp
import sys
from typing import Optional, Union

import cv2
import numpy as np

from .errors import PanopticFormatError

try:  # optional, faster PNG decoder (libspng)
    import pyspng
except ImportError:  # pragma: no cover - depends on the environment
    pyspng = None

__all__ = [
    'VOID_ID', 'MAX_PANOPTIC_ID', 'SPNG_AVAILABLE', 'DECODERS',
    'PanopticFormatError', 'rgb2id', 'id2rgb', 'bgr2id',
    'decode_panoptic_png', 'read_panoptic_png', 'write_panoptic_png'
]

#: Segment id of pixels that belong to no segment (black in the PNG).
VOID_ID = 0
#: Largest segment id an 8-bit RGB PNG can hold.
MAX_PANOPTIC_ID = 256**3 - 1
#: Whether the libspng decoder (``pyspng``) is installed.
SPNG_AVAILABLE = pyspng is not None
#: Accepted values of the ``decoder`` argument.
DECODERS = ('auto', 'opencv')

PathLike = Union[str, os.PathLike]
_LITTLE_ENDIAN = sys.byteorder == 'little'


def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """Convert RGB colours to panoptic segment ids.

    Args:
        rgb (np.ndarray): (..., 3) array of R, G, B values in ``[0, 255]``.

    Returns:
        np.ndarray: (...) uint32 ids ``R + 256 G + 256^2 B``.

    Raises:
        ValueError: The last axis does not hold 3 values.
    """
    rgb = np.asarray(rgb)
    if rgb.shape[-1:] != (3, ):
        raise ValueError(
            f'rgb2id expects (..., 3) R, G, B values, got shape {rgb.shape}')
    rgb = rgb.astype(np.uint32, copy=False)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


def _ids_to_rgba(ids: np.ndarray) -> np.ndarray:
    """Checked ids -> (..., 4) uint8 R, G, B, 0 (a view of a packed copy)."""
    ids = np.asarray(ids)
    if not (np.issubdtype(ids.dtype, np.integer) or ids.dtype == np.bool_):
        raise TypeError(
            f'panoptic ids must be integers, got dtype {ids.dtype}')
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < VOID_ID or high > MAX_PANOPTIC_ID:
            raise ValueError(
                f'panoptic ids must lie in [{VOID_ID}, {MAX_PANOPTIC_ID}] '
                f'(VOID_ID..MAX_PANOPTIC_ID) to be stored as RGB, got ids in '
                f'[{low}, {high}]')
    packed = np.ascontiguousarray(ids, dtype='<u4')
    return packed.view(np.uint8).reshape(ids.shape + (4, ))


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """Convert panoptic segment ids to RGB colours.

    Args:
        ids (np.ndarray): Integer ids in ``[0, MAX_PANOPTIC_ID]``.

    Returns:
        np.ndarray: (..., 3) uint8 array of R, G, B.

    Raises:
        TypeError: The ids are not integers.
        ValueError: An id lies outside ``[0, MAX_PANOPTIC_ID]``; the message
            gives the range found.
    """
    return _ids_to_rgba(ids)[..., :3].copy()


def _pack_rgba(rgba: np.ndarray, keep_alpha: bool = False) -> np.ndarray:
    """(H, W, 4) contiguous uint8 R, G, B, A -> (H, W) uint32 id, in place."""
    ids = rgba.view('<u4').reshape(rgba.shape[:2])
    if not keep_alpha:
        np.bitwise_and(ids, np.uint32(MAX_PANOPTIC_ID), out=ids)
    if not _LITTLE_ENDIAN:  # pragma: no cover - big-endian hosts
        ids = ids.astype(np.uint32)
    return ids


def bgr2id(bgr: np.ndarray) -> np.ndarray:
    """Convert a decoded panoptic PNG in OpenCV's BGR order to segment ids.

    For images decoded by another backend (e.g. ``mmcv.imfrombytes`` with
    ``channel_order='bgr'``); :func:`decode_panoptic_png` is faster on bytes.

    Args:
        bgr (np.ndarray): (H, W, 3) uint8 B, G, R image.

    Returns:
        np.ndarray: (H, W) uint32 segment ids.

    Raises:
        ValueError: The image is not (H, W, 3) uint8.
    """
    bgr = np.asarray(bgr)
    if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
        raise ValueError('bgr2id expects an (H, W, 3) uint8 BGR image, got '
                         f'shape {bgr.shape} and dtype {bgr.dtype}')
    rgba = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2RGBA)
    return _pack_rgba(rgba)


def _decode_spng(data: bytes, keep_alpha: bool) -> Optional[np.ndarray]:
    """Decode straight to RGBA8 with libspng; None if it cannot."""
    try:
        rgba = pyspng.load(data, 'RGBA')
    except Exception:  # noqa: BLE001 - let OpenCV try and report
        return None
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        return None  # e.g. 16-bit PNGs: OpenCV reduces them to 8 bits
    return _pack_rgba(np.ascontiguousarray(rgba), keep_alpha)


def decode_panoptic_png(data: bytes,
                        name: str = '<bytes>',
                        decoder: str = 'auto',
                        keep_alpha: bool = False) -> np.ndarray:
    """Decode the bytes of a COCO panoptic PNG into a segment id map.

    ``'auto'`` uses libspng (``pyspng``, fastest single-threaded) when it is
    installed and OpenCV otherwise; ``'opencv'`` forces OpenCV, which releases
    the GIL (use it to decode in a second thread). Both are lossless, so the
    ids are the same. Greyscale and palette PNGs are expanded to RGB first.

    Args:
        data (bytes): Content of the PNG file.
        name (str): File name or path, for error messages.
        decoder (str): One of :data:`DECODERS`.
        keep_alpha (bool): Skip clearing the top byte: the values are then
            ``id + (alpha << 24)``, equal ids having equal values wherever
            the alpha is constant (always for RGB PNGs). Saves a pass for
            callers that mask only the values they look up (with
            ``MAX_PANOPTIC_ID``).

    Returns:
        np.ndarray: (H, W) uint32 segment ids (:data:`VOID_ID` = void).

    Raises:
        ValueError: ``decoder`` is unknown.
        PanopticFormatError: The data cannot be decoded; the message names
            ``name``.
    """
    if decoder not in DECODERS:
        raise ValueError(
            f'unknown decoder {decoder!r}; expected one of {DECODERS}')
    if pyspng is not None and decoder == 'auto':
        ids = _decode_spng(data, keep_alpha)
        if ids is not None:
            return ids
    buf = np.frombuffer(data, dtype=np.uint8)
    bgr = None
    if buf.size:
        try:
            bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        except cv2.error:
            bgr = None
    if bgr is None:
        raise PanopticFormatError(
            f'panoptic PNG {name!r} cannot be decoded',
            image=osp.basename(name))
    return _pack_rgba(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA), keep_alpha)


def read_panoptic_png(path: PathLike,
                      decoder: str = 'auto',
                      keep_alpha: bool = False) -> np.ndarray:
    """Read a COCO panoptic PNG into a segment id map.

    Args:
        path (str | os.PathLike): PNG file.
        decoder (str): See :func:`decode_panoptic_png`.
        keep_alpha (bool): See :func:`decode_panoptic_png`.

    Returns:
        np.ndarray: (H, W) uint32 segment ids (:data:`VOID_ID` = void).

    Raises:
        PanopticFormatError: The file is missing, cannot be read or cannot
            be decoded; the message names the file and ``image`` holds its
            base name.
    """
    path = os.fspath(path)
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        raise PanopticFormatError(
            f'panoptic PNG {path!r} does not exist',
            image=osp.basename(path)) from None
    except OSError as err:
        raise PanopticFormatError(
            f'panoptic PNG {path!r} cannot be read: {err.strerror or err}',
            image=osp.basename(path)) from err
    return decode_panoptic_png(data, path, decoder, keep_alpha)


def write_panoptic_png(path: PathLike,
                       ids: np.ndarray,
                       compression: Optional[int] = None) -> None:
    """Write a segment id map as a COCO panoptic PNG.

    Args:
        path (str | os.PathLike): Output file; its folder is created if
            needed.
        ids (np.ndarray): (H, W) integer ids in ``[0, MAX_PANOPTIC_ID]``.
        compression (int, optional): zlib level 0-9 with zlib's default
            strategy (``cv2.IMWRITE_PNG_COMPRESSION``). None keeps OpenCV's
            default, the fastest to write (level 1, run-length strategy);
            level 1 writes files about half as large that decode about twice
            as fast, the better choice for datasets read many times.

    Raises:
        ValueError: ``ids`` is not 2-D or holds an id outside
            ``[0, MAX_PANOPTIC_ID]``; the message names the file.
        TypeError: The ids are not integers.
        OSError: The file cannot be written.
    """
    path = os.fspath(path)
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f'{path}: a panoptic PNG needs an (H, W) id map, '
                         f'got shape {ids.shape}')
    try:
        rgba = _ids_to_rgba(ids)
    except ValueError as err:
        raise ValueError(f'{path}: {err}') from None
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    bgr = cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    params = [] if compression is None else [
        cv2.IMWRITE_PNG_COMPRESSION, int(compression)
    ]
    if not cv2.imwrite(path, bgr, params):
        raise OSError(f'cannot write panoptic PNG {path!r}')
