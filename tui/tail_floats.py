"""tail's float frames read from their bytes: moved to logger/float_frames.py so that
scan_history and export read them as tail does; the names stay importable from here."""

from logger.float_frames import FloatRows, FrameDecoder, _array_len, _Layout, _learn, event_count

__all__ = ["FloatRows", "FrameDecoder", "_Layout", "_array_len", "_learn", "event_count"]
