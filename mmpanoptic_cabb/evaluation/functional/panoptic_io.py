"""Reading and writing COCO panoptic PNGs (``id = R + 256 G + 256^2 B``)."""
import os
import os.path as osp

import cv2
import numpy as np

from .errors import PanopticFormatError

try:  # optional, faster PNG decoder (libspng)
    import pyspng
except ImportError:  # pragma: no cover - depends on the environment
    pyspng = None

#: Largest id an RGB PNG can hold.
MAX_RGB_ID = 256**3 - 1


def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """Convert RGB colours to panoptic ids.

    Args:
        rgb (np.ndarray): (..., 3) array of R, G, B values.

    Returns:
        np.ndarray: (...) uint32 ids.
    """
    rgb = np.asarray(rgb).astype(np.uint32, copy=False)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """Convert panoptic ids to RGB colours.

    Args:
        ids (np.ndarray): Integer ids in ``[0, 256^3)``.

    Returns:
        np.ndarray: (..., 3) uint8 array of R, G, B.
    """
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() > MAX_RGB_ID):
        raise ValueError(f'ids must lie in [0, {MAX_RGB_ID}] to be stored as '
                         'RGB')
    packed = np.ascontiguousarray(ids, dtype='<u4')
    return packed.view(np.uint8).reshape(ids.shape + (4, ))[..., :3].copy()


def _pack_rgba(rgba: np.ndarray, keep_alpha: bool = False) -> np.ndarray:
    """(H, W, 4) uint8 R, G, B, A -> (H, W) uint32 id, in place."""
    ids = rgba.view('<u4').reshape(rgba.shape[:2])
    if not keep_alpha:
        np.bitwise_and(ids, np.uint32(MAX_RGB_ID), out=ids)
    return ids


def _decode_spng(data: bytes, keep_alpha: bool):
    """Decode straight to RGBA8 with libspng; None if it cannot."""
    try:
        rgba = pyspng.load(data, 'RGBA')
    except Exception:  # noqa: BLE001 - let OpenCV try and report
        return None
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        return None
    return _pack_rgba(np.ascontiguousarray(rgba), keep_alpha)


def decode_panoptic_png(data: bytes,
                        name: str = '<bytes>',
                        decoder: str = 'auto',
                        keep_alpha: bool = False) -> np.ndarray:
    """Decode the bytes of a COCO panoptic PNG into an id map.

    ``'auto'`` uses libspng (``pyspng``, fastest single-threaded) when it is
    installed and OpenCV otherwise; ``'opencv'`` forces OpenCV, which releases
    the GIL (use it to decode in a second thread). Both are lossless, so the
    ids are the same.

    Args:
        data (bytes): Content of the PNG file.
        name (str): File name, for the error message.
        decoder (str): ``'auto'`` or ``'opencv'``.
        keep_alpha (bool): Skip clearing the top byte: the values are then
            ``id + (alpha << 24)``, equal ids having equal values wherever
            the alpha is constant (always for RGB PNGs). Saves a pass for
            callers that mask only the values they look up.

    Returns:
        np.ndarray: (H, W) uint32 segment ids (0 = void).

    Raises:
        PanopticFormatError: The data cannot be decoded.
    """
    if decoder not in ('auto', 'opencv'):
        raise ValueError(f'unknown decoder {decoder!r}')
    if pyspng is not None and decoder == 'auto':
        ids = _decode_spng(data, keep_alpha)
        if ids is not None:
            return ids
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise PanopticFormatError(
            f'panoptic PNG {name!r} cannot be decoded', image=name)
    return _pack_rgba(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA), keep_alpha)


def read_panoptic_png(path: str,
                      decoder: str = 'auto',
                      keep_alpha: bool = False) -> np.ndarray:
    """Read a COCO panoptic PNG into an id map.

    Args:
        path (str): PNG file.
        decoder (str): See :func:`decode_panoptic_png`.
        keep_alpha (bool): See :func:`decode_panoptic_png`.

    Returns:
        np.ndarray: (H, W) uint32 segment ids (0 = void).

    Raises:
        PanopticFormatError: The file is missing or cannot be decoded.
    """
    if not osp.isfile(path):
        raise PanopticFormatError(
            f'panoptic PNG {path!r} does not exist', image=osp.basename(path))
    with open(path, 'rb') as f:
        data = f.read()
    return decode_panoptic_png(data, osp.basename(path), decoder, keep_alpha)


def write_panoptic_png(path: str, ids: np.ndarray) -> None:
    """Write an id map as a COCO panoptic PNG.

    Args:
        path (str): Output file; its folder is created if needed.
        ids (np.ndarray): (H, W) integer ids in ``[0, 256^3)``.
    """
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    bgr = np.ascontiguousarray(id2rgb(ids)[..., ::-1])
    if not cv2.imwrite(path, bgr):
        raise OSError(f'could not write {path!r}')
