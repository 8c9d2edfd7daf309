"""Panoptic segmentation of images or a folder: overlays, COCO panoptic PNG + JSON.

A thin command line over :class:`mmpanoptic_cabb.apis.PanopticInferencer`.

Examples::

    # one image, one overlay
    python demo/image_demo.py data/synthetic/images/val/val_000000.jpg CONFIG CHECKPOINT \\
        --out-file prediction.png
    # a folder: OUT/vis/*.png, OUT/panoptic/*.png, OUT/panoptic.json, OUT/instances.json
    python demo/image_demo.py data/synthetic/images/val CONFIG CHECKPOINT --out-dir OUT

CONFIG is a config file or the name of a config under ``configs/``;
CHECKPOINT may be left out (random weights, for trying the tool).
"""
import argparse
import os.path as osp
import shutil
import tempfile
from typing import Optional, Sequence

from mmengine.config import DictAction


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Panoptic segmentation demo')
    parser.add_argument('inputs', nargs='+',
                        help='image file(s) or folder(s) of images')
    parser.add_argument('config', help='config file or name of a config '
                        'under configs/')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint file (default: random weights)')
    parser.add_argument('--out-dir', default=None,
                        help='write vis/, panoptic/, panoptic.json and '
                        'instances.json here')
    parser.add_argument('--out-file', default=None,
                        help='one input image: write its overlay PNG here')
    parser.add_argument('--device', default='cpu', help='inference device')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--alpha', type=float, default=0.6,
                        help='opacity of the overlay')
    parser.add_argument('--show', action='store_true',
                        help='show every overlay in a window')
    parser.add_argument('--no-save-vis', action='store_true',
                        help='do not write the overlays')
    parser.add_argument('--no-save-pred', action='store_true',
                        help='do not write the PNGs and JSON files')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed set before the model is built (random '
                        'weights without a checkpoint are then the same '
                        'every run); default 0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    args = parser.parse_args(argv)
    # the checkpoint is optional: `IMAGE CONFIG` or `IMAGE CONFIG CKPT`
    if args.checkpoint is None and len(args.inputs) > 1 and (
            args.config.endswith(('.pth', '.pt'))):
        args.checkpoint, args.config = args.config, args.inputs.pop()
    if args.out_file is None and args.out_dir is None and not args.show:
        parser.error('give --out-dir, --out-file or --show')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the demo; returns the inferencer's result."""
    args = parse_args(argv)
    from mmpanoptic_cabb.apis import PanopticInferencer
    from mmpanoptic_cabb.utils.errors import ToolInputError, \
        check_writable_dir
    from mmengine.runner import set_random_seed
    set_random_seed(args.seed)
    cfg_options = dict(args.cfg_options or {})
    cfg_options.setdefault('visualizer.alpha', args.alpha)
    inferencer = PanopticInferencer(args.config, args.checkpoint,
                                    device=args.device,
                                    cfg_options=cfg_options)
    out_dir = args.out_dir
    if args.out_file is not None:
        if len(args.inputs) != 1 or osp.isdir(args.inputs[0]):
            raise ToolInputError('--out-file takes one input image; use '
                                 '--out-dir for several')
        check_writable_dir(osp.dirname(osp.abspath(args.out_file)))
        out_dir = out_dir or tempfile.mkdtemp(prefix='image_demo_')
    result = inferencer(args.inputs, batch_size=args.batch_size,
                        out_dir=out_dir, show=args.show,
                        no_save_vis=args.no_save_vis and not args.out_file,
                        no_save_pred=args.no_save_pred)
    predictions = result['predictions']
    if args.out_file is not None:
        name = predictions[0]['name']
        shutil.copyfile(osp.join(out_dir, 'vis', name + '.png'),
                        args.out_file)
        if args.out_dir is None:
            shutil.rmtree(out_dir, ignore_errors=True)
        print(f'saved {args.out_file}')
    void = [p['name'] for p in predictions if not p['segments_info']]
    if void:
        print(f'void everywhere (image drawn alone): {", ".join(void)}')
    if args.out_dir is not None:
        print(f'{len(predictions)} image(s) written to {args.out_dir}')
    return result


if __name__ == '__main__':
    from mmpanoptic_cabb.utils.cli import exit_on_input_error
    exit_on_input_error(main)
