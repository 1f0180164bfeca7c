"""A decode the chunked runner reads while ffmpeg is still writing it.

`read` waits until ffmpeg has written the frames asked for, so the first chunk starts a moment
after the decode does instead of after the whole song. An engine that normalises by whole-song
statistics (demucs) needs them before its first window: given in advance (audio/mix_stats.py),
they are `known`, and when the decode ends with others (another ffmpeg made them) the reader gets
`MixStatsMismatch` holding the complete decode, so stems made with the wrong normalisation are
never published. An engine that works on the raw mix (dsp, Spleeter) needs no statistics: a new
song streams with `known=None`, its length known only once the decode ends (`frames_up_to`
waits as far as it needs; `expected_frames` estimates from the header meanwhile). Every check of
`decode_into` still runs; its error (truncated, over the cap, timeout, cancel) reaches the reader.
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
from .probe import AudioInfo

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
        known: MixStats | None,
        *,
        settings: Settings | None = None,
        spool_dir: Path | None = None,
        cancel: Callable[[], bool] | None = None,
        owned_dir: Path | None = None,
        info: AudioInfo | None = None,
    ) -> None:
        self._known = known
        self._info = info
        self._cancel = cancel
        self._owned_dir = owned_dir
        self._stop = False
        fd, name = tempfile.mkstemp(prefix="riffroom-decode-", suffix=".f32", dir=spool_dir)
        self.path = Path(name)
        self._out = os.fdopen(fd, "wb")
        self._cond = threading.Condition()
        self._written = 0
        self._estimate = 0  # frames the header promises, from the decode's progress
        self._done = False
        self._error: BaseException | None = None
        self._result: DecodedAudio | None = None
        self._thread = threading.Thread(
            target=self._run, args=(source, settings or get_settings()), name="stream-decode", daemon=True
        )
        self._thread.start()

    @property
    def stats(self) -> MixStats:
        """The statistics given, or (a new song) those of the finished decode."""
        if self._known is not None:
            return self._known
        if self._done and self._result is not None:
            return self._result.stats
        raise RuntimeError("a new song's statistics are known once its decode has ended")

    @property
    def frames(self) -> int:
        return self.stats.frames

    @property
    def expected_frames(self) -> int:
        """The song's length: exact when known or decoded, else the header's promise (at least what exists)."""
        if self._known is not None:
            return self._known.frames
        with self._cond:
            return self._written if self._done else max(self._written, self._estimate)

    def frames_up_to(self, end: int) -> int:
        """min(end, the song's length): waits until `end` frames exist or the decode has ended."""
        if self._known is not None:
            return min(end, self._known.frames)
        self._wait_for(end)
        with self._cond:
            return min(end, self._written)

    def _stopped(self) -> bool:
        return self._stop or (self._cancel is not None and self._cancel())

    def _run(self, source: Path, settings: Settings) -> None:
        try:
            stats, info = decode_into(
                source,
                self._append,
                settings=settings,
                cancel=self._stopped,
                on_progress=self._progressed,
                info=self._info,
            )
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

    def _progressed(self, fraction: float) -> None:
        if fraction > 0:
            with self._cond:
                self._estimate = round(self._written / fraction)

    def _wait_for(self, frames: int) -> None:
        """Until `frames` frames exist or the decode has ended; then raise what the ended decode says."""
        with self._cond:
            while not self._done and self._written < frames:
                if self._cancel is not None and self._cancel():
                    raise CancelledError("cancelled while decoding")
                self._cond.wait(_WAIT_SECONDS)
            done = self._done
        if done:
            self._outcome()

    def _outcome(self) -> None:
        """Raise what the finished decode says is wrong: its own error, or other statistics."""
        if self._error is not None:
            raise self._error
        assert self._result is not None
        if self._known is not None and self._result.stats != self._known:
            raise MixStatsMismatch(self._known, self._result)

    def read(self, start: int, count: int) -> np.ndarray:
        """Frames [start, start+count) as [2, count] float32, zero outside the song; waits for them."""
        hi = start + count if self._known is None else min(start + count, self._known.frames)
        self._wait_for(hi)
        with self._cond:  # frames past the song's end (once it is known) read as zeros
            total = self._known.frames if self._known is not None else self._written
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
