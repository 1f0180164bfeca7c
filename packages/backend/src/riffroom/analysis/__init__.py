"""Song analysis: beats, downbeats, bars, meter, tempo curve, key, chords and sections.

Pure functions from a mixture (and its stems) to an `Analysis`; no web, queue or database here.
"""

from .pipeline import analyze
from .result import Analysis, BeatPosition, Segment

ANALYSIS_VERSION = 2

__all__ = ["ANALYSIS_VERSION", "Analysis", "BeatPosition", "Segment", "analyze"]
