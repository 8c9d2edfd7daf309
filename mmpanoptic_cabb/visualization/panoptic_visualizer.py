"""Visualizer of panoptic predictions and of crop-training samples."""
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmengine.dist import master_only

from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmpanoptic_cabb.structures.box_sides import (BOTTOM, LEFT, NUM_SIDES,
                                                  RIGHT, TOP)
from .panoptic_drawing import (cabb_feasible_region, colorize_panoptic,
                               feasible_bands, instance_color, label_anchor,
                               panoptic_segments, segment_outlines)

#: Colour of truncated sides and of the CABB feasible region (RGB).
TRUNCATED_COLOR = (230, 25, 75)
#: Colour of the instance ISUS sampled (RGB).
ISUS_COLOR = (255, 225, 25)
#: Colour of the canvas margin around a training crop (RGB).
MARGIN_COLOR = (236, 236, 236)


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, 'tensor'):  # mmdet box types
        value = value.tensor
    if hasattr(value, 'masks'):  # BitmapMasks
        value = value.masks
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@VISUALIZERS.register_module()
class PanopticVisualizer(DetLocalVisualizer):
    """mmdet's ``DetLocalVisualizer`` for panoptic maps and crop samples.

    Predictions (``pred_panoptic_seg``): every segment coloured with its
    class's palette colour (shifted per instance for things), thing segments
    outlined, each segment named at a pixel near its centre. An all-void
    prediction draws the image alone.

    Ground truth of a training sample (``gt_instances`` with ``truncated``
    flags, as ``PackPanopticInputs`` packs them): the crop on a canvas with a
    margin of ``margin`` pixels on every side, the semantic ground truth
    blended in, every instance outlined and its box drawn, untruncated sides
    solid and truncated sides dashed in red. For a box with a truncated side
    the CABB feasible region is drawn hatched beyond the visible box: the
    union of the boxes the CABB loss accepts (untruncated sides fixed,
    truncated sides anywhere outward, without limit; drawn up to the canvas
    edge with an arrow per free side, see
    :func:`.panoptic_drawing.cabb_feasible_region`). For an ISUS sample
    (``isus_level >= 0``) the sampled instance (``sampled_gt_instance``) is
    drawn thick in yellow, its target pyramid level and ``sigma`` written
    in the bottom margin. A legend is written in the top margin.

    Args:
        name (str): Instance name. Defaults to 'visualizer'.
        margin (int): Canvas margin around a training crop, pixels (the
            legend needs about 30). Defaults to 40.
        font_size (int): Size of the class names. Defaults to 9.
        **kwargs: Those of ``DetLocalVisualizer`` (``alpha``, ``line_width``,
            ``vis_backends``, ``save_dir``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 margin: int = 40,
                 font_size: int = 9,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.margin = int(margin)
        self.font_size = int(font_size)

    # ------------------------------------------------------------ meta
    def _meta(self) -> Tuple[list, int, list]:
        meta = self.dataset_meta or {}
        classes = list(meta.get('classes', ()))
        things = meta.get('thing_classes', None)
        num_things = len(things) if things is not None else len(classes)
        palette = meta.get('palette', None)
        if not isinstance(palette, (list, tuple)) or \
                len(palette) < len(classes):
            rng = np.random.default_rng(42)
            palette = [tuple(int(v) for v in rng.integers(0, 256, 3))
                       for _ in classes]
        return classes, num_things, [tuple(p) for p in palette]

    def _name(self, label: int, classes: list) -> str:
        return classes[label] if 0 <= label < len(classes) else str(label)

    # ------------------------------------------------------------ panoptic
    def draw_panoptic(self, image: np.ndarray, pan: np.ndarray) -> np.ndarray:
        """Draw a panoptic id map over an RGB image.

        Args:
            image (np.ndarray): (H, W, 3) uint8 RGB.
            pan (np.ndarray): (H, W) ids ``label + instance *
                INSTANCE_OFFSET``; labels ``>= len(classes)`` are void.

        Returns:
            np.ndarray: The drawing, (H, W, 3) uint8 RGB.
        """
        classes, num_things, palette = self._meta()
        pan = np.asarray(pan).reshape(image.shape[:2])
        segments = panoptic_segments(pan, len(classes), num_things)
        if not segments:
            return image.copy()
        drawn = colorize_panoptic(image, pan, segments, palette, self.alpha)
        outline = segment_outlines(
            pan, [s['id'] for s in segments if s['isthing']])
        drawn[outline] = (255, 255, 255)
        self.set_image(drawn)
        min_area = max(16, pan.size // 2000)
        texts, positions = [], []
        for seg in segments:
            if seg['area'] < min_area:
                continue
            texts.append(self._name(seg['label'], classes))
            positions.append(label_anchor(pan == seg['id']))
        if texts:
            self.draw_texts(
                texts, np.array(positions), font_sizes=self.font_size,
                colors='white', horizontal_alignments='center',
                vertical_alignments='center',
                bboxes=[dict(facecolor='black', alpha=0.5, pad=0.5,
                             edgecolor='none')] * len(texts))
        return self.get_image()

    # ------------------------------------------------------------ training
    def draw_training_sample(self, image: np.ndarray,
                             data_sample) -> np.ndarray:
        """Draw a training crop: semantics, instances, truncation, CABB, ISUS.

        Args:
            image (np.ndarray): (H, W, 3) uint8 RGB crop.
            data_sample (DetDataSample): With ``gt_instances`` (``bboxes``,
                ``labels``, optionally ``masks`` and ``truncated``),
                optionally ``gt_sem_seg`` and the ISUS meta keys.

        Returns:
            np.ndarray: (H + 2 margin, W + 2 margin, 3) uint8 RGB.
        """
        _, _, palette = self._meta()
        h, w = image.shape[:2]
        m = self.margin
        drawn = image.astype(np.float32)
        if 'gt_sem_seg' in data_sample:
            sem = _to_numpy(data_sample.gt_sem_seg.sem_seg).reshape(h, w)
            for label in np.unique(sem).tolist():
                if 0 <= label < len(palette):
                    mask = sem == label
                    drawn[mask] = (1 - self.alpha * 0.6) * drawn[mask] + \
                        self.alpha * 0.6 * np.array(palette[label])
        drawn = drawn.clip(0, 255).astype(np.uint8)
        inst = data_sample.gt_instances if 'gt_instances' in data_sample \
            else None
        boxes = np.zeros((0, 4))
        labels = np.zeros(0, dtype=np.int64)
        truncated = np.zeros((0, NUM_SIDES), dtype=bool)
        if inst is not None and len(inst) > 0:
            boxes = _to_numpy(inst.bboxes).reshape(-1, 4).astype(np.float64)
            labels = _to_numpy(inst.labels).astype(np.int64)
            if 'truncated' in inst:
                truncated = _to_numpy(inst.truncated).astype(bool)
            else:
                truncated = np.zeros((len(boxes), NUM_SIDES), dtype=bool)
            if 'masks' in inst:
                masks = _to_numpy(inst.masks).astype(bool)
                if masks.shape[1:] == (h, w):
                    index = np.zeros((h, w), dtype=np.int64)
                    for k in range(len(masks)):
                        index[masks[k]] = k + 1
                    outline = segment_outlines(index, range(1, len(masks) + 1))
                    for k in range(len(masks)):
                        drawn[outline & (index == k + 1)] = instance_color(
                            palette[labels[k]] if labels[k] < len(palette)
                            else (255, 255, 255), k + 1)
        canvas = np.empty((h + 2 * m, w + 2 * m, 3), dtype=np.uint8)
        canvas[:] = MARGIN_COLOR
        canvas[m:m + h, m:m + w] = drawn
        self.set_image(canvas)
        # the crop's frame
        self.draw_bboxes(np.array([[m - 0.5, m - 0.5, m + w - 0.5,
                                    m + h - 0.5]]),
                         edge_colors=[(60, 60, 60)], line_widths=1)
        bounds = (0.0, 0.0, float(w + 2 * m - 1), float(h + 2 * m - 1))
        shifted = boxes + m
        for k in np.flatnonzero(truncated.any(axis=1)):
            self._draw_feasible_region(shifted[k], truncated[k], bounds)
        for k in range(len(boxes)):
            color = palette[labels[k]] if labels[k] < len(palette) else \
                (255, 255, 255)
            self._draw_box_sides(shifted[k], truncated[k], color)
        self._draw_isus(data_sample, shifted, h + 2 * m)
        self._draw_legend(bool(truncated.any()))
        return self.get_image()

    def _draw_box_sides(self, box: np.ndarray, truncated: np.ndarray,
                        color: Sequence[int], width: float = 1.5) -> None:
        x1, y1, x2, y2 = box
        sides = {LEFT: ([x1, x1], [y1, y2]), TOP: ([x1, x2], [y1, y1]),
                 RIGHT: ([x2, x2], [y1, y2]), BOTTOM: ([x1, x2], [y2, y2])}
        for side, (xs, ys) in sides.items():
            cut = bool(truncated[side])
            self.draw_lines(np.array(xs), np.array(ys),
                            colors=[TRUNCATED_COLOR if cut else tuple(color)],
                            line_styles='--' if cut else '-',
                            line_widths=width + (0.5 if cut else 0))

    def _draw_feasible_region(self, box: np.ndarray, truncated: np.ndarray,
                              bounds: Sequence[float]) -> None:
        from matplotlib.patches import FancyArrow, Rectangle
        region = cabb_feasible_region(box, truncated, bounds)
        rgb = np.array(TRUNCATED_COLOR) / 255
        # the region beyond the visible box: where the cut sides may lie
        for x1, y1, x2, y2 in feasible_bands(box, region):
            self.ax_save.add_patch(
                Rectangle((x1, y1), x2 - x1, y2 - y1,
                          facecolor=(*rgb, 0.15), edgecolor=(*rgb, 0.7),
                          hatch='//', linewidth=0))
        bx1, by1, bx2, by2 = box
        cx, cy = (bx1 + bx2) / 2, (by1 + by2) / 2
        length = self.margin * 0.8
        # one arrow per truncated side, outward: the side is free that way
        arrows = {LEFT: (bx1, cy, -length, 0), TOP: (cx, by1, 0, -length),
                  RIGHT: (bx2, cy, length, 0), BOTTOM: (cx, by2, 0, length)}
        for side, (x, y, dx, dy) in arrows.items():
            if truncated[side]:
                self.ax_save.add_patch(
                    FancyArrow(x, y, dx, dy, width=0.6,
                               head_width=max(4.0, self.margin * 0.25),
                               head_length=max(4.0, self.margin * 0.25),
                               length_includes_head=True, color=rgb))

    def _draw_isus(self, data_sample, boxes: np.ndarray,
                   canvas_height: int) -> None:
        meta = data_sample.metainfo
        level = meta.get('isus_level', -1)
        row = meta.get('sampled_gt_instance', -1)
        if level is None or level < 0 or row is None or \
                not 0 <= row < len(boxes):
            return
        self.draw_bboxes(boxes[row][None], edge_colors=[ISUS_COLOR],
                         line_widths=3)
        sigma = meta.get('isus_sigma', float('nan'))
        self.draw_texts(
            f'yellow: ISUS instance, level {level}, sigma {sigma:.2f}',
            np.array([2, canvas_height - 2]), font_sizes=self.font_size,
            colors='black', vertical_alignments='bottom',
            bboxes=dict(facecolor=np.array(ISUS_COLOR) / 255, alpha=0.8,
                        pad=0.5, edgecolor='none'))

    def _draw_legend(self, any_truncated: bool) -> None:
        text = 'box side: solid = object edge'
        if any_truncated:
            text += ', red dashed = cut\nhatched: CABB feasible region'
        self.draw_texts(text, np.array([2, 1]),
                        font_sizes=max(6, self.font_size - 1),
                        colors='black', vertical_alignments='top',
                        bboxes=dict(facecolor='white', alpha=0.8, pad=0.5,
                                    edgecolor='none'))

    # ------------------------------------------------------------ entry
    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3,
                       step: int = 0) -> None:
        """Draw ground truth (training crops) and/or the panoptic prediction.

        The ground-truth drawing (:meth:`draw_training_sample`) is placed
        left of the prediction (:meth:`draw_panoptic`); a sample with neither
        draws the image. Other predictions (instances or semantics without
        a panoptic map) are drawn by ``DetLocalVisualizer``.

        Args:
            name (str): Image name (window title, backend key).
            image (np.ndarray): (H, W, 3) RGB image.
            data_sample (DetDataSample, optional): Annotations/predictions.
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the prediction. Defaults to True.
            show (bool): Show in a window. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            out_file (str, optional): Write the drawing here (no backend).
            pred_score_thr (float): Score threshold of drawn instances when
                there is no panoptic map. Defaults to 0.3.
            step (int): Global step for the backends. Defaults to 0.
        """
        image = np.asarray(image).clip(0, 255).astype(np.uint8)
        drawings = []
        if data_sample is not None:
            data_sample = data_sample.cpu()
            if draw_gt and 'gt_instances' in data_sample:
                drawings.append(self.draw_training_sample(image, data_sample))
            if draw_pred and 'pred_panoptic_seg' in data_sample:
                pan = _to_numpy(data_sample.pred_panoptic_seg.sem_seg)
                drawings.append(self.draw_panoptic(image, pan[0] if
                                                   pan.ndim == 3 else pan))
            elif draw_pred and ('pred_instances' in data_sample
                                or 'pred_sem_seg' in data_sample):
                drawings.append(self._draw_other_pred(image, data_sample,
                                                      pred_score_thr))
        drawn = _side_by_side(drawings) if drawings else image
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)

    def _draw_other_pred(self, image: np.ndarray, data_sample,
                         pred_score_thr: float) -> np.ndarray:
        classes, _, palette = self._meta()
        drawn = image
        if 'pred_instances' in data_sample:
            instances = data_sample.pred_instances
            instances = instances[instances.scores > pred_score_thr]
            if 'masks' in instances and isinstance(instances.masks, list):
                del instances.masks  # COCO RLEs: boxes only
            drawn = self._draw_instances(image, instances, classes, palette)
        if 'pred_sem_seg' in data_sample:
            drawn = self._draw_sem_seg(drawn, data_sample.pred_sem_seg,
                                       classes, palette)
        return drawn


def _side_by_side(images: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate drawings left to right, padding heights with white."""
    height = max(im.shape[0] for im in images)
    padded = []
    for im in images:
        if im.shape[0] < height:
            pad = np.full((height - im.shape[0], *im.shape[1:]), 255,
                          dtype=im.dtype)
            im = np.concatenate([im, pad], axis=0)
        padded.append(im)
    return np.concatenate(padded, axis=1)
