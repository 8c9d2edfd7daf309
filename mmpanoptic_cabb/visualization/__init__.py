"""visualization of mmpanoptic_cabb."""
