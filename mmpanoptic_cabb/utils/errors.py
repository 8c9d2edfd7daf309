"""Checks of user input shared by the inferencer and the tools.

Each raises :class:`ToolInputError` (a ``ValueError``) with a message that
names the file, the folder or the counts concerned.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Any, Optional

import numpy as np


class ToolInputError(ValueError):
    """Bad user input: a missing config, an unreadable image, ..."""


def check_config_path(path: str) -> str:
    """The config path, checked to be an existing file.

    Args:
        path (str): Config file path.

    Returns:
        str: ``path``.

    Raises:
        ToolInputError: If there is no such file.
    """
    if not osp.isfile(path):
        raise ToolInputError(f'config file {path!r} does not exist')
    return path


def check_writable_dir(path: str) -> str:
    """Create the folder if needed and check that files can be written in it.

    Args:
        path (str): Output folder.

    Returns:
        str: ``path``.

    Raises:
        ToolInputError: If it cannot be created or is not writable.
    """
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix='.write_check'):
            pass
    except OSError as err:
        raise ToolInputError(
            f'output folder {path!r} is not writable ({err.strerror})'
        ) from err
    return path


def read_json_input(path: str, what: str) -> Any:
    """The content of a JSON file given by the user.

    Args:
        path (str): The file.
        what (str): What the file is, for the message (e.g.
            ``'result file'``).

    Returns:
        The parsed JSON.

    Raises:
        ToolInputError: If the file does not exist or is not JSON.
    """
    if not osp.isfile(path):
        raise ToolInputError(f'{what} {path!r} does not exist')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ToolInputError(f'{what} {path!r} is not JSON: {err}')


def read_image(path: str) -> np.ndarray:
    """Read an image as a BGR uint8 array.

    Args:
        path (str): Image file.

    Returns:
        np.ndarray: (H, W, 3) BGR array.

    Raises:
        ToolInputError: If the file is missing or not a readable image.
    """
    import mmcv
    if not osp.isfile(path):
        raise ToolInputError(f'image file {path!r} does not exist')
    image: Optional[np.ndarray]
    try:
        image = mmcv.imread(path, channel_order='bgr')
    except Exception:  # noqa: BLE001 (decoders raise various errors)
        image = None
    if image is None or image.size == 0:
        raise ToolInputError(f'image file {path!r} cannot be read as an '
                             'image')
    return image
