"""Offline analysis tooling of mmpanoptic_cabb (studies, reports).

Nothing here is imported by :mod:`mmpanoptic_cabb` itself: the tools under
``tools/analysis_tools/`` import the modules they need.
"""
