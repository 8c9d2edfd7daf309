"""FCN mask head whose convs and deconv are each followed by an ABN."""
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer, build_upsample_layer
from mmdet.models.roi_heads.mask_heads import FCNMaskHead
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType
from mmengine.model import BaseModule, ModuleList, constant_init
from torch import Tensor


@MODELS.register_module()
class ABNFCNMaskHead(FCNMaskHead):
    """:class:`FCNMaskHead` with a norm layer after every conv and after the
    deconv, and no other activation, as in Seamless Scene Segmentation.

    With ``norm_cfg=dict(type='ABN')`` / ``dict(type='SyncABN')`` (BatchNorm
    + LeakyReLU 0.01 in one layer) the head is

    - ``num_convs`` x [3x3 conv without bias, ABN]
      (``ConvModule(..., norm_cfg=norm_cfg, act_cfg=None)``),
    - a 2x2 stride-2 ``ConvTranspose2d`` without bias (``upsample``),
      followed by ABN (``upsample_norm``) instead of mmdet's ReLU,
    - the 1x1 predictor ``conv_logits`` with bias, unchanged.

    14x14 RoI features thus give 28x28 mask logits.  Targets and loss are
    those of :class:`FCNMaskHead`.  State-dict keys of the norms are
    BatchNorm's (``convs.{i}.bn.*``, ``upsample_norm.*``); the convs and the
    predictor keep mmdet's names.

    Args:
        norm_cfg (dict): Norm layer after each conv and after the deconv.
            Defaults to ``dict(type='ABN')``.
        upsample_cfg (dict): Upsampling layer; only ``type='deconv'`` is
            supported. Defaults to ``dict(type='deconv', scale_factor=2)``.
        **kwargs: The other arguments of :class:`FCNMaskHead`
            (``num_convs``, ``in_channels``, ``conv_out_channels``,
            ``num_classes``, ``class_agnostic``, ``loss_mask``, ...).

    Raises:
        ValueError: If ``norm_cfg`` is None or the upsampling is not a
            deconv.
    """

    def __init__(self,
                 *,
                 norm_cfg: OptConfigType = dict(type='ABN'),
                 upsample_cfg: ConfigType = dict(
                     type='deconv', scale_factor=2),
                 **kwargs) -> None:
        if norm_cfg is None:
            raise ValueError('ABNFCNMaskHead needs a norm_cfg')
        if upsample_cfg.get('type') != 'deconv':
            raise ValueError('ABNFCNMaskHead supports only '
                             f"upsample_cfg type 'deconv', got {upsample_cfg}")
        super().__init__(
            norm_cfg=norm_cfg, upsample_cfg=upsample_cfg, **kwargs)
        # The norm supplies the activation: rebuild the parent's convs
        # without their ReLU, and its deconv without bias.
        self.convs = ModuleList(
            ConvModule(
                self.in_channels if i == 0 else self.conv_out_channels,
                self.conv_out_channels,
                self.conv_kernel_size,
                padding=(self.conv_kernel_size - 1) // 2,
                conv_cfg=self.conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None) for i in range(self.num_convs))
        upsample_cfg_ = self.upsample_cfg.copy()
        upsample_cfg_.update(
            in_channels=(self.conv_out_channels
                         if self.num_convs > 0 else self.in_channels),
            out_channels=self.conv_out_channels,
            kernel_size=self.scale_factor,
            stride=self.scale_factor,
            bias=False)
        self.upsample = build_upsample_layer(upsample_cfg_)
        self.upsample_norm = build_norm_layer(norm_cfg,
                                              self.conv_out_channels)[1]
        del self.relu

    def init_weights(self) -> None:
        """Initialize the weights like :meth:`FCNMaskHead.init_weights`
        (Kaiming for the deconv and the predictor), for a bias-free deconv;
        the norms start as identity scale and zero shift."""
        BaseModule.init_weights(self)
        nn.init.kaiming_normal_(
            self.upsample.weight, mode='fan_out', nonlinearity='relu')
        constant_init(self.upsample_norm, 1, bias=0)
        if hasattr(self.conv_logits, 'weight'):
            nn.init.kaiming_normal_(
                self.conv_logits.weight, mode='fan_out', nonlinearity='relu')
        if getattr(self.conv_logits, 'bias', None) is not None:
            nn.init.constant_(self.conv_logits.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """Mask logits of the RoIs.

        Args:
            x (Tensor): (num_rois, in_channels, 14, 14) RoI features.

        Returns:
            Tensor: (num_rois, num_classes or 1, 28, 28) mask logits.
        """
        for conv in self.convs:
            x = conv(x)
        x = self.upsample_norm(self.upsample(x))
        return self.conv_logits(x)
