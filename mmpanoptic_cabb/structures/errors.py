"""Errors raised on malformed panoptic annotations, predictions or PNGs."""
from typing import Optional, Union


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
