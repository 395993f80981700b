"""The one error every meter-frame decoder raises: what is wrong and at which byte."""

from __future__ import annotations

from nuanliu.errors import InvalidInput


class FrameError(InvalidInput):
    """A frame that cannot be decoded; ``offset`` is the 0-based byte where it went wrong."""

    code = "bad_frame"

    def __init__(self, protocol: str, offset: int, message: str) -> None:
        super().__init__(
            f"{protocol} frame: byte {offset}: {message}",
            details={"protocol": protocol, "offset": offset, "reason": message},
        )
        self.protocol = protocol
        self.offset = offset
        self.reason = message
