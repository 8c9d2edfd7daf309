"""mmpanoptic_cabb.analysis.cabb_diagnostics: truncated positives, CABB
target moves and box-size errors."""
import math

import numpy as np
import pytest
import torch

from mmpanoptic_cabb.analysis.cabb_diagnostics import (box_size_errors,
                                                       summarise,
                                                       summarise_box_errors,
                                                       truncated_positive_stats)


def test_truncated_positive_stats_counts_and_ratios():
    """Row 0: right side truncated and the prediction twice as wide as the
    cropped box extending right: CABB's target takes the prediction's width
    (ratio 2). Row 1: truncated, prediction smaller: target unchanged
    (ratio 1). Row 2: not truncated. Row 3: truncated but not a positive."""
    target = torch.zeros(4, 4)
    pred = torch.zeros(4, 4)
    # raw deltas: dx = 0.5 (centre moved right by half the width), dw = log 2
    pred[0] = torch.tensor([0.5, 0.0, math.log(2.0), 0.0])
    pred[1] = torch.tensor([0.0, 0.0, math.log(0.5), 0.0])
    truncated = torch.zeros(4, 4, dtype=torch.bool)
    truncated[0, 2] = truncated[1, 2] = truncated[3, 0] = True
    weight = torch.ones(4, 4)
    weight[3] = 0
    stats = truncated_positive_stats(pred, target, weight, truncated)
    assert stats['positives'] == 3
    assert stats['truncated'] == 2
    assert stats['truncated_dims'] == 2
    assert stats['moved_dims'] == 1
    assert sorted(stats['size_ratios']) == pytest.approx([1.0, 2.0])


def test_truncated_positive_stats_uses_coder_normalisation():
    """The same raw prediction expressed in normalised deltas (std 0.1,
    0.2) gives the same ratio."""
    stds = (0.1, 0.1, 0.2, 0.2)
    raw = torch.tensor([[0.5, 0.0, math.log(2.0), 0.0]])
    pred = raw / torch.tensor(stds)
    truncated = torch.tensor([[False, False, True, False]])
    stats = truncated_positive_stats(pred, torch.zeros(1, 4), None,
                                     truncated, stds=stds)
    assert stats['size_ratios'] == pytest.approx([2.0])


def test_box_size_errors_match_by_class_and_iou():
    gt = np.array([[0, 0, 100, 100], [200, 200, 300, 260]], float)
    pred = np.array([[0, 0, 50, 100],    # class 0: half as wide
                     [0, 0, 100, 100],   # class 1: exact, wrong class
                     [500, 500, 510, 510]], float)
    errors = box_size_errors(gt, np.array([0, 1]), pred, np.array([0, 1, 1]))
    assert errors['best_iou'][0] == pytest.approx(0.5)
    assert errors['log_w_ratio'][0] == pytest.approx(math.log(0.5))
    assert errors['log_h_ratio'][0] == pytest.approx(0.0)
    # GT 1 (class 1) overlaps no class-1 prediction
    assert errors['best_iou'][1] == 0
    assert math.isnan(errors['log_w_ratio'][1])


def test_box_size_errors_without_predictions():
    errors = box_size_errors(np.array([[0, 0, 10, 10]]), np.array([0]),
                             np.zeros((0, 4)), np.zeros(0))
    assert errors['best_iou'] == [0.0]
    assert math.isnan(errors['log_h_ratio'][0])


def test_summarise_box_errors_of_matches():
    out = summarise_box_errors([0.7, 0.2, 0.0], [-0.5, 0.1, np.nan],
                               [-0.1, -0.3, np.nan])
    assert out['objects'] == 3
    assert out['recall_iou50'] == pytest.approx(1 / 3)
    # Matched: areas log -0.6 and -0.2, both smaller.
    assert out['too_small'] == 1.0
    assert out['log_w_ratio']['count'] == 2
    assert out['log_w_ratio']['median'] == pytest.approx(-0.2)
    empty = summarise_box_errors([], [], [])
    assert empty['objects'] == 0 and empty['recall_iou50'] is None
    assert empty['too_small'] is None


def test_summarise_ignores_non_finite():
    s = summarise([1.0, 2.0, 3.0, float('nan')])
    assert s['count'] == 3 and s['median'] == 2.0 and s['mean'] == 2.0
    assert summarise([]) == dict(count=0)


def test_tool_runs_on_a_tiny_dataset(tiny_synthetic_root, tmp_path):
    """The CLI end to end: CABB switched on for the measurement of a CROP
    config, a random-weight checkpoint, the report written."""
    import json

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import save_checkpoint

    import mmpanoptic_cabb  # noqa: F401
    from mmdet.registry import MODELS
    from tests import REPO_ROOT, load_tool
    config = (f'{REPO_ROOT}/configs/synthetic/'
              'seamless_hrnet-slim_crop-256_1200i_synthetic.py')
    init_default_scope('mmdet')
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'random.pth')
    save_checkpoint({'state_dict': MODELS.build(cfg.model).state_dict()},
                    ckpt)
    out = str(tmp_path / 'diag.json')
    report = load_tool('analysis_tools', 'cabb_diagnostics').main([
        config, ckpt, '--data-root', tiny_synthetic_root, '--train-batches',
        '2', '--val-images', '2', '--min-side', '0', '--out', out
    ])
    with open(out) as f:
        assert json.load(f) == json.loads(json.dumps(report))
    assert report['trained_with_cabb'] is False
    for head in ('rpn', 'roi'):
        stats = report['train'][head]
        assert stats['calls'] > 0
        assert 0 <= stats['truncated'] <= stats['positives']
        assert stats['moved_dims'] <= stats['truncated_dims']
    val = report['val']
    assert val['objects'] > 0
    assert val['proposals']['objects'] == val['objects']
    assert 0 <= val['proposals']['recall_iou50'] <= 1
    # Every object has proposals to match (the RPN keeps up to 1000).
    assert val['proposals']['best_iou']['count'] == val['objects']
    assert val['proposals_from'] == 'rpn'
    # from the ground-truth boxes, every object has its exact proposal
    gt = load_tool('analysis_tools', 'cabb_diagnostics').main([
        config, ckpt, '--data-root', tiny_synthetic_root, '--train-batches',
        '1', '--val-images', '2', '--min-side', '0', '--proposals', 'gt'
    ])['val']
    assert gt['proposals_from'] == 'gt' and gt['objects'] == val['objects']
    assert gt['proposals']['recall_iou50'] == 1.0
    assert gt['proposals']['best_iou']['median'] == pytest.approx(1.0)


class _FakeRPN:
    """An RPN whose test output is one box in the resized frame."""

    def __init__(self, box):
        self.box = box

    def predict(self, *args, **kwargs):
        from mmengine.structures import InstanceData
        return [InstanceData(bboxes=torch.tensor([self.box]))]


class _FakeSegmentor:
    """Resizes by (2, 4) and predicts one box of class 1 at half size."""

    def __init__(self, proposal):
        self.rpn_head = _FakeRPN(proposal)

    def eval(self):
        return self

    def test_step(self, batch):
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        self.rpn_head.predict()
        sample = DetDataSample(metainfo=dict(scale_factor=(2.0, 4.0)))
        sample.pred_instances = InstanceData(
            bboxes=torch.tensor([[0., 0., 50., 100.]]),
            labels=torch.tensor([1]))
        return [sample]


class _FakeDataset:
    instances = [dict(bbox=[0, 0, 100, 200], bbox_label=1),
                 dict(bbox=[0, 0, 10, 10], bbox_label=1)]

    def __len__(self):
        return 1

    def get_data_info(self, idx):
        return dict(instances=self.instances)

    def __getitem__(self, idx):
        return dict(inputs=None)


def test_val_errors_of_predictions_and_proposals():
    """Proposals are mapped back through the scale factor before matching;
    the RPN's own ``predict`` is restored afterwards."""
    from mmpanoptic_cabb.analysis.cabb_diagnostics import \
        collect_val_box_errors

    # (0, 0, 100, 200) in the original frame is (0, 0, 200, 800) resized.
    model = _FakeSegmentor([0., 0., 200., 800.])
    out = collect_val_box_errors(model, _FakeDataset(), 5, min_side=50)
    assert out['objects'] == 1 and out['min_side'] == 50
    assert out['recall_iou50'] == 0.0
    assert out['log_w_ratio']['median'] == pytest.approx(math.log(0.5))
    assert out['too_small'] == 1.0
    rpn = out['proposals']
    assert rpn['objects'] == 1 and rpn['recall_iou50'] == 1.0
    assert rpn['best_iou']['median'] == pytest.approx(1.0)
    assert rpn['log_h_ratio']['median'] == pytest.approx(0.0)
    assert 'predict' not in vars(model.rpn_head)


class _EchoSegmentor:
    """Resizes by (2, 4); the RoI head halves the width of each proposal
    it is given (``sample.proposals``) and labels it class 1; the RPN is
    asked only when the samples bring no proposals."""

    def __init__(self):
        self.rpn_head = _FakeRPN([0., 0., 1., 1.])
        self.rpn_calls = 0

    def eval(self):
        return self

    def test_step(self, batch):
        from mmengine.structures import InstanceData
        sample = batch['data_samples'][0]
        if sample.get('proposals', None) is None:
            self.rpn_calls += 1
            boxes = self.rpn_head.predict()[0].bboxes
        else:
            boxes = sample.proposals.bboxes
        orig = boxes / torch.tensor([2.0, 4.0, 2.0, 4.0])
        orig[:, 2] = orig[:, 0] + (orig[:, 2] - orig[:, 0]) / 2
        sample.pred_instances = InstanceData(
            bboxes=orig, labels=torch.ones(len(orig), dtype=torch.long))
        return [sample]


class _SampleDataset(_FakeDataset):

    def __getitem__(self, idx):
        from mmdet.structures import DetDataSample
        return dict(inputs=None, data_samples=DetDataSample(
            metainfo=dict(scale_factor=(2.0, 4.0))))


def test_val_errors_from_ground_truth_proposals():
    """``proposals_from='gt'``: every GT box of the image, in the resized
    frame, is the RoI head's proposal list and the RPN is not asked."""
    from mmpanoptic_cabb.analysis.cabb_diagnostics import (
        collect_val_box_errors, gt_proposals)

    props = gt_proposals(np.array([[0, 0, 100, 200], [5, 5, 15, 25]]),
                         (2.0, 4.0))
    assert props.bboxes.tolist() == [[0, 0, 200, 800], [10, 20, 30, 100]]
    assert props.scores.tolist() == [1, 1] and props.labels.tolist() == [0, 0]

    model = _EchoSegmentor()
    out = collect_val_box_errors(model, _SampleDataset(), 5, min_side=50,
                                 proposals_from='gt')
    assert model.rpn_calls == 0
    assert out['proposals_from'] == 'gt' and out['objects'] == 1
    props = out['proposals']
    assert props['recall_iou50'] == 1.0
    assert props['best_iou']['median'] == pytest.approx(1.0)
    # the RoI head halved the width of the right-sized proposal
    assert out['log_w_ratio']['median'] == pytest.approx(math.log(0.5))
    assert out['log_h_ratio']['median'] == pytest.approx(0.0)
    assert out['best_iou']['median'] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="'rpn' or 'gt'"):
        collect_val_box_errors(model, _SampleDataset(), 1, 50, 'oracle')
