"""Panoptic segmentation of one image, saved as a visualisation PNG.

Example::

    python demo/image_demo.py data/synthetic/images/val/val_000000.jpg CONFIG CHECKPOINT \
        --out-file prediction.png
"""
import argparse

import mmcv
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import VISUALIZERS

from mmpanoptic_cabb.apis import inference_panoptic, init_panoptic_model


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Panoptic segmentation demo')
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', default='prediction.png',
                        help='output PNG (image with the panoptic overlay)')
    parser.add_argument('--device', default='cpu', help='inference device')
    parser.add_argument('--alpha', type=float, default=0.6,
                        help='opacity of the overlay')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # mmdet's visualiser draws instance masks from a bool stack, not RLEs
    model = init_panoptic_model(
        args.config, args.checkpoint, device=args.device,
        cfg_options={'model.test_cfg.panoptic.instance_masks': 'bitmap'})
    result = inference_panoptic(model, args.img)
    visualizer = VISUALIZERS.build(
        dict(type='DetLocalVisualizer', name='panoptic_demo',
             alpha=args.alpha))
    visualizer.dataset_meta = model.dataset_meta
    num_classes = len(model.dataset_meta['classes'])
    pan = result.pred_panoptic_seg.sem_seg % INSTANCE_OFFSET
    if not (pan != num_classes).any():
        # mmdet's panoptic drawing fails on an all-void map: draw the image alone.
        print('the prediction is void everywhere')
        del result.pred_panoptic_seg
    image = mmcv.imread(args.img, channel_order='rgb')
    visualizer.add_datasample(
        'prediction', image, data_sample=result, draw_gt=False, show=False,
        out_file=args.out_file)
    print(f'saved {args.out_file}')


if __name__ == '__main__':
    main()
