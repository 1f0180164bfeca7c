"""A decode the chunked runner reads while ffmpeg is still writing it.

Given the song's mix statistics in advance (audio/mix_stats.py), the runner needs nothing else
before its first window: `read` waits until ffmpeg has written the frames asked for, so the first
chunk starts a moment after the decode does instead of after the whole song. Every check of
`decode_into` still runs; its error (truncated, over the cap, timeout, cancel) reaches the reader.
When the decode ends with statistics other than those given (another ffmpeg made them), the
reader gets `MixStatsMismatch` holding the complete decode, so stems made with the wrong
normalisation are never published.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..config import Settings, get_settings
from ..errors import CancelledError
from .decode import DecodedAudio, decode_into, read_spool
from .format import MixStats

_WAIT_SECONDS = 0.25  # how often a waiting reader looks at `cancel`
_CLOSE_WAIT_SECONDS = 5.0


class MixStatsMismatch(Exception):
    """This host's decode gave other statistics than the stored ones; `decoded` is its own, complete."""

    def __init__(self, expected: MixStats, decoded: DecodedAudio) -> None:
        super().__init__(f"the decode gave {decoded.stats}, not the stored {expected}")
        self.decoded = decoded


class StreamingDecode:
    """Decodes `source` in a thread into a spool in `spool_dir`; reads block until their frames exist."""

    def __init__(
        self,
        source: Path,
        known: MixStats,
        *,
        settings: Settings | None = None,
        spool_dir: Path | None = None,
        cancel: Callable[[], bool] | None = None,
        owned_dir: Path | None = None,
    ) -> None:
        self._known = known
        self._cancel = cancel
        self._owned_dir = owned_dir
        self._stop = False
        fd, name = tempfile.mkstemp(prefix="riffroom-decode-", suffix=".f32", dir=spool_dir)
        self.path = Path(name)
        self._out = os.fdopen(fd, "wb")
        self._cond = threading.Condition()
        self._written = 0
        self._done = False
        self._error: BaseException | None = None
        self._result: DecodedAudio | None = None
        self._thread = threading.Thread(
            target=self._run, args=(source, settings or get_settings()), name="stream-decode", daemon=True
        )
        self._thread.start()

    @property
    def stats(self) -> MixStats:
        return self._known

    @property
    def frames(self) -> int:
        return self._known.frames

    def _stopped(self) -> bool:
        return self._stop or (self._cancel is not None and self._cancel())

    def _run(self, source: Path, settings: Settings) -> None:
        try:
            stats, info = decode_into(source, self._append, settings=settings, cancel=self._stopped)
            self._out.close()
            self._result = DecodedAudio(self.path, stats, info, self._owned_dir)
        except BaseException as exc:
            self._error = exc
        finally:
            self._out.close()
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _append(self, samples: np.ndarray) -> None:
        self._out.write(samples.tobytes())
        self._out.flush()  # readers open the file themselves: the frames must be in it
        with self._cond:
            self._written += samples.shape[0]
            self._cond.notify_all()

    def _outcome(self) -> None:
        """Raise what the finished decode says is wrong: its own error, or other statistics."""
        if self._error is not None:
            raise self._error
        assert self._result is not None
        if self._result.stats != self._known:
            raise MixStatsMismatch(self._known, self._result)

    def read(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start+count) as [2, count] float32, zero outside the song; waits for them."""
        total = self._known.frames
        hi = min(start + count, total)
        with self._cond:
            while not self._done and self._written < hi:
                if self._cancel is not None and self._cancel():
                    raise CancelledError("cancelled while decoding")
                self._cond.wait(_WAIT_SECONDS)
            done = self._done
        if done:
            self._outcome()
        return read_spool(self.path, start, count, total)

    def finish(self) -> DecodedAudio:
        """Wait for the decode to end: the complete DecodedAudio, its stats those given, or why not."""
        self._thread.join()
        self._outcome()
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Stop the decode (when it still runs) and remove the spool."""
        self._stop = True
        # It stops at its next block; a stalled ffmpeg is killed by decode_into's watchdog, not waited for.
        self._thread.join(timeout=_CLOSE_WAIT_SECONDS)
        self.path.unlink(missing_ok=True)
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)
