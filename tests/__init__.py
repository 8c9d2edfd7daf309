"""Tests of mmpanoptic_cabb; the folders mirror the package layout.

Holds what tests at any depth need to reach the repository: its root and a
loader for the scripts under ``tools/``.
"""
import importlib.util
import os.path as osp
from types import ModuleType

#: The repository root (holds ``configs/``, ``tools/`` and the package).
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(folder: str, name: str) -> ModuleType:
    """Import the script ``tools/{folder}/{name}.py`` as a module.

    Args:
        folder (str): Folder under ``tools/``, e.g. ``'analysis_tools'``.
        name (str): Script name without ``.py``.

    Returns:
        ModuleType: The executed script module (not added to
        ``sys.modules``).
    """
    path = osp.join(REPO_ROOT, 'tools', folder, name + '.py')
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
