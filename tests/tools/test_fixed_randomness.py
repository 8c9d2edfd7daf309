"""Fixed randomness (Sec. 4.1): two variants of a config, built the way
``tools/train.py`` builds them, draw the same training samples and start from
the same initial weights; another seed draws other samples."""
import os.path as osp

import torch
from mmengine.runner import Runner

from .tiny_config import DEMO_CONFIG, REPO_ROOT, make_tiny_cfg

CABB_CONFIG = osp.join(REPO_ROOT, 'configs', 'synthetic',
                       'seamless_hrnet-slim_crop-256-cabb_1200i_synthetic.py')
NUM_BATCHES = 3


def _runner(config: str, root: str, work_dir: str, seed=None) -> Runner:
    cfg = make_tiny_cfg(root, work_dir, config=config, with_val=False)
    if seed is not None:
        cfg.randomness = dict(seed=seed)
    return Runner.from_cfg(cfg)


def _draws_and_weights(runner: Runner):
    """First batches of the training loader, then the initialised weights,
    in the order ``runner.train()`` builds them."""
    batches = []
    for i, batch in enumerate(runner.train_loop.dataloader):
        if i == NUM_BATCHES:
            break
        batches.append(batch)
    runner.model.init_weights()
    return batches, runner.model.state_dict()


def _assert_same_batches(a, b):
    assert len(a) == len(b) == NUM_BATCHES
    for batch_a, batch_b in zip(a, b):
        assert len(batch_a['inputs']) == len(batch_b['inputs'])
        for img_a, img_b in zip(batch_a['inputs'], batch_b['inputs']):
            assert torch.equal(img_a, img_b)
        for sa, sb in zip(batch_a['data_samples'], batch_b['data_samples']):
            assert sa.metainfo['img_path'] == sb.metainfo['img_path']
            assert sa.metainfo['sampled_class'] == sb.metainfo[
                'sampled_class']
            ga, gb = sa.gt_instances, sb.gt_instances
            assert torch.equal(ga.labels, gb.labels)
            assert torch.equal(ga.bboxes.tensor, gb.bboxes.tensor)
            assert torch.equal(ga.truncated, gb.truncated)


def test_variants_share_draws_and_initial_weights(tiny_synthetic_root,
                                                  tmp_path):
    # Each run is built and drawn from before the next is built, as in
    # separate processes: the transforms draw from numpy's global generator
    # (mmcv's convention), which the next runner reseeds.
    crop = _runner(DEMO_CONFIG, tiny_synthetic_root, str(tmp_path / 'crop'))
    assert crop.cfg.model.rpn_head.loss_bbox.type == 'SmoothL1Loss'
    batches_crop, weights_crop = _draws_and_weights(crop)
    cabb = _runner(CABB_CONFIG, tiny_synthetic_root, str(tmp_path / 'cabb'))
    assert cabb.cfg.model.rpn_head.loss_bbox.type == 'CABBLoss'
    assert crop.cfg.randomness.seed == cabb.cfg.randomness.seed == 0
    batches_cabb, weights_cabb = _draws_and_weights(cabb)
    _assert_same_batches(batches_crop, batches_cabb)
    assert weights_crop.keys() == weights_cabb.keys()
    for key, value in weights_crop.items():
        assert torch.equal(value, weights_cabb[key]), key

    other = _runner(DEMO_CONFIG, tiny_synthetic_root, str(tmp_path / 'other'),
                    seed=1)
    batches_other, weights_other = _draws_and_weights(other)
    assert any(not torch.equal(a, b) for x, y in zip(batches_crop,
                                                     batches_other)
               for a, b in zip(x['inputs'], y['inputs']))
    assert any(not torch.equal(value, weights_other[key])
               for key, value in weights_crop.items()
               if value.is_floating_point())
