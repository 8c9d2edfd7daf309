"""mmpanoptic_cabb: panoptic segmentation of high-resolution images with crop-aware
bounding boxes (CABB) and instance scale-uniform sampling (ISUS), on the OpenMMLab stack.

Importing the package registers all of its modules in mmdet's registries (scope
``mmdet``), so configs combine them freely with mmdet and mmseg components through
``custom_imports=dict(imports=['mmpanoptic_cabb'])``.
"""
import mmcv
import mmdet
from mmengine.utils import digit_version

from .version import __version__, version_info

_MMCV_MIN, _MMCV_MAX = '2.0.0rc4', '2.2.0'
if not (digit_version(_MMCV_MIN) <= digit_version(mmcv.__version__) <
        digit_version(_MMCV_MAX)):
    raise ImportError(
        f'mmcv=={mmcv.__version__} is installed, but mmpanoptic_cabb needs '
        f'mmcv>={_MMCV_MIN},<{_MMCV_MAX} (the range mmdet {mmdet.__version__} '
        'supports).')

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401  (registration)
from .utils.checkpoint import register_checkpoint_loader  # noqa: E402

register_checkpoint_loader()

__all__ = ['__version__', 'version_info']
