"""Column order of per-side box records: left, top, right, bottom.

Every per-side record of an ``(x1, y1, x2, y2)`` box (the truncation flags
``gt_truncated`` / ``gt_instances.truncated`` / ``pos_gt_truncated`` /
``truncated``) has one column per side, in the order of the box coordinate
that lies on that side: column :data:`LEFT` belongs to ``x1``, :data:`TOP`
to ``y1``, :data:`RIGHT` to ``x2`` and :data:`BOTTOM` to ``y2``. Modules that
read or permute such records index them with these constants.

Plain Python constants, no imports: usable from numpy and torch code alike.
"""

#: Column of each side.
LEFT, TOP, RIGHT, BOTTOM = 0, 1, 2, 3
#: Name of each column, in column order.
SIDE_NAMES = ('left', 'top', 'right', 'bottom')
#: Number of columns of a per-side record.
NUM_SIDES = len(SIDE_NAMES)

#: ``(low, high)`` sides of the x dimension.
X_SIDES = (LEFT, RIGHT)
#: ``(low, high)`` sides of the y dimension.
Y_SIDES = (TOP, BOTTOM)
#: ``(low, high)`` sides per dimension, in dimension order ``(x, y)``.
DIM_SIDES = (X_SIDES, Y_SIDES)
#: Low side of each dimension ``(x, y)``: where the coordinate is smallest.
LOW_SIDES = (LEFT, TOP)
#: High side of each dimension ``(x, y)``: where the coordinate is largest.
HIGH_SIDES = (RIGHT, BOTTOM)

#: Column permutation of a per-side record for each flip direction:
#: column ``j`` of the flipped record is column ``FLIP_PERMUTATIONS[d][j]``
#: of the original (a flip swaps the low and high side of a dimension).
FLIP_PERMUTATIONS = {
    'horizontal': (RIGHT, TOP, LEFT, BOTTOM),
    'vertical': (LEFT, BOTTOM, RIGHT, TOP),
    'diagonal': (RIGHT, BOTTOM, LEFT, TOP),
}
