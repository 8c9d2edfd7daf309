"""The ablation study of ``tools/analysis_tools/run_ablation.py``.

Table 1 / Fig. 5 of the paper in miniature: every synthetic variant trained
and tested over a few seeds. The modules, from the bottom up:

- :mod:`.common`: file names, paths, JSON helpers and the error type;
- :mod:`.variants`: the variants (configs) and their seeds;
- :mod:`.runs`: :class:`~.runs.RunSpec` / :class:`~.runs.RunPlan`, the
  planner over the file-system state, the queue order and the specs;
- :mod:`.commands`: the ``tools/train.py`` / ``tools/test.py`` commands;
- :mod:`.results`: reading test metrics and loss curves, the run records and
  their copies in the results dir;
- :mod:`.executor`: the process pool, executing a run, the study loop;
- :mod:`.convergence`: late-decile loss means and the loss curves;
- :mod:`.report`: mean / spread aggregation, the markdown table and the
  AP-by-size plot.
- :mod:`.schedules`: the metrics of several budgets (results dirs) against
  the schedule length.

Offline tooling: :mod:`mmpanoptic_cabb` does not import this package.
"""
