"""Data structures and encodings shared by runtime and offline code.

Nothing here imports from the offline packages (converters, synthetic
generator); modules are imported by their full path, e.g.
``mmpanoptic_cabb.structures.panoptic_png``.
"""
