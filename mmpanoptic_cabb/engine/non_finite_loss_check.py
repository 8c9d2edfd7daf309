"""Stop before a NaN/inf loss reaches the weights."""
from typing import Callable, Dict, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size

from mmpanoptic_cabb.structures.errors import NonFiniteLossError


class NonFiniteLossCheck:
    """Wraps a model's ``parse_losses`` to raise on a non-finite total loss.

    ``parse_losses`` runs inside ``train_step`` before the backward pass and the optimizer
    step, so raising there leaves the weights, the optimizer and the schedulers at the last
    good state. The error names every non-finite term with its value. In distributed runs the
    ranks agree on the verdict (one all-reduce of a flag), so all of them stop together.

    With AMP the check is off (``enabled=False``): the gradient scaler skips such steps.

    Args:
        parse_losses (Callable): The model's ``parse_losses``.
    """

    def __init__(self, parse_losses: Callable) -> None:
        self.parse_losses = parse_losses
        self.enabled = True

    def __call__(self, losses: Dict[str, torch.Tensor]
                 ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        loss, log_vars = self.parse_losses(losses)
        if not self.enabled:
            return loss, log_vars
        finite = torch.isfinite(loss.detach()).all().to(torch.float32)
        if get_world_size() > 1:
            all_reduce(finite, op='min')
        if not bool(finite):
            raise NonFiniteLossError(self._bad_terms(log_vars, loss))
        return loss, log_vars

    @staticmethod
    def _bad_terms(log_vars: Dict[str, torch.Tensor],
                   loss: torch.Tensor) -> list:
        """``name=value`` of each non-finite term (the total if none is)."""
        terms = [f'{name}={float(value):g}' for name, value in log_vars.items()
                 if name != 'loss' and 'loss' in name
                 and isinstance(value, torch.Tensor)
                 and not bool(torch.isfinite(value).all())]
        if not terms:
            terms = [f'loss={float(loss.detach().float().mean()):g}' if
                     bool(torch.isfinite(loss).all()) else
                     'loss on another rank']
        return terms
