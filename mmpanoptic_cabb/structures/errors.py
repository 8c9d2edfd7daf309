"""Errors raised on malformed panoptic annotations, predictions, PNGs and training samples,
and the errors that stop a training run (corrupt checkpoint, non-finite loss), each naming
what went wrong."""
from typing import Optional, Sequence, Union


class PanopticFormatError(ValueError):
    """A panoptic annotation or prediction does not follow the COCO format.

    The message always names the offending file or image and, where one is
    involved, the segment id, e.g. ``"pred image 'a.png' (image_id=3): segment
    id 42 is in the PNG but not in the JSON"`` or ``"panoptic PNG
    '/data/gt/a.png' cannot be decoded"``.

    Args:
        message (str): What is wrong.
        image (str | int, optional): File name or id of the image concerned.
        segment_id (int, optional): The offending segment id, if any.
    """

    def __init__(self,
                 message: str,
                 image: Optional[Union[str, int]] = None,
                 segment_id: Optional[int] = None) -> None:
        super().__init__(message)
        self.image = image
        self.segment_id = segment_id

    def __reduce__(self):
        # keep ``image`` and ``segment_id`` across process boundaries
        return (type(self), (self.args[0], self.image, self.segment_id))


class BadSampleError(PanopticFormatError):
    """A training sample cannot be loaded: a missing or undecodable image or
    PNG, or a PNG whose segment ids disagree with its JSON.

    The message names the draw id, the image id and the files, then the
    original error, e.g. ``"draw id 17: image id 'a' (image 'img/a.jpg',
    panoptic PNG 'pan/a.png'): AssertionError: failed to load image:
    img/a.jpg"``.

    Args:
        message (str): What is wrong.
        image (str | int, optional): Path of the image concerned.
        segment_id (int, optional): The offending segment id, if any.
    """


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file is truncated or cannot be read.

    Args:
        filename (str): The checkpoint file.
        reason (str): What the reader reported.
    """

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(
            f'checkpoint {filename} is truncated or corrupt ({reason}). '
            'Resume from an earlier checkpoint: pass its path to --resume, '
            'or add --resume-fallback to take the newest readable one.')
        self.filename = filename
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.filename, self.reason))


class NonFiniteLossError(FloatingPointError):
    """A loss term is NaN or infinite.

    Args:
        terms (Sequence[str]): The non-finite loss terms, with their values.
        iteration (int, optional): The (1-based) iteration whose loss is not
            finite, once known.
        checkpoint (str, optional): Checkpoint written with the last good
            state, once written.
    """

    def __init__(self,
                 terms: Sequence[str],
                 iteration: Optional[int] = None,
                 checkpoint: Optional[str] = None) -> None:
        self.terms = list(terms)
        self.iteration = iteration
        self.checkpoint = checkpoint
        where = f' at iteration {iteration}' if iteration is not None else ''
        msg = f'non-finite loss{where}: {", ".join(self.terms)}'
        if checkpoint is not None:
            msg += (f'. The state before this iteration is saved in '
                    f'{checkpoint}; resume from it with --resume after '
                    'fixing the cause (data, learning rate, or --amp, '
                    'which skips such steps)')
        super().__init__(msg)

    def __reduce__(self):
        return (type(self), (self.terms, self.iteration, self.checkpoint))
