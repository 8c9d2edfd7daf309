# Runtime shared by every config: mmdet's defaults, our modules registered, iteration-based logging.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['mmpanoptic_cabb'], allow_failed_imports=False)

# Checkpoints are written under a temporary name and renamed when complete (a kill never leaves
# `last_checkpoint` naming a partial file); the last three are kept. ResumeStateHook stores the
# sampler position and the generators in each checkpoint, so that the training loops of the
# schedules (ResumableIterBasedTrainLoop) continue a resumed run exactly. Each config states its
# interval; 5000 iterations is the fallback.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=5000,
                    max_keep_ckpts=3),
    resume_state=dict(type='ResumeStateHook'))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# Every log line names every loss, the ETA and the memory: mmengine logs CUDA memory, this hook the
# process's peak resident memory (MiB) on CPU runs.
custom_hooks = [dict(type='ProcessMemoryHook')]

# The paper fixes the controllable sources of randomness (Sec. 4.1): every variant of a config sees
# the same sequence of class-uniform draws and starts from the same initial weights.
randomness = dict(seed=0)

# Panoptic overlays with class names and instance outlines for `tools/test.py --show-dir` and
# `tools/analysis_tools/browse_dataset.py` (crops with truncated sides, CABB regions, ISUS levels).
# TensorBoard as a further backend (needs `pip install tensorboard`):
#   --cfg-options "visualizer.vis_backends=[dict(type='LocalVisBackend'),dict(type='TensorboardVisBackend')]"
visualizer = dict(type='PanopticVisualizer')
