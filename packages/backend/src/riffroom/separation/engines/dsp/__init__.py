"""Weight-free 4-stem separator: STFT masking driven by classic signal-processing cues.

Why this shape: with no trained weights, the only handles on a mix are structural ones. Drums are
broadband and short (median-filter HPSS, plus an onset-synchronous template for the kick, whose tonal
body a median filter calls "harmonic"), the bass owns the lowest octaves and sits in the centre, the
lead voice is one predominant pitch near the centre (harmonic summation + Viterbi, then a comb mask
weighted by a soft voicing probability rather than a hard voiced/unvoiced decision),
and whatever is left (guitars, keys, pads) is "other". Mixes put drums, bass and lead voice in the
centre and spread guitars and keys to the sides, so energy that is amplitude-panned away from the centre
(and phase-coherent between the channels, which a wide stereo sample or reverb is not) is moved from
drums, bass and vocals to "other". Each cue yields a soft mask; masks are normalised to sum to one, and
"other" takes the exact residual so the stems always sum to the input. Cymbals ring long enough to look
harmonic, so centred high-frequency energy that no other cue claims is given to drums.

Modules: `params` (the tunables), `spectrum` (STFT pair, soft frequency edge), `hpss`, `bass` (bass and
kick), `melody` (pitch track and vocal comb), `stereo` (pan and phase cues), `wiener` (optional
refinement), `masks` (the cues combined) and `engine` (`DspEngine`, the `Engine` protocol).
"""

from __future__ import annotations

from .engine import DspEngine
from .melody import track as _track
from .params import DspParams, Track
from .spectrum import stft as _stft
from .stereo import pan_cues as _pan_cues

# `_stft`, `_track` and `_pan_cues`: the helpers under their names from before the split into modules
# (the dsp tests use them).
__all__ = ["DspEngine", "DspParams", "Track", "_pan_cues", "_stft", "_track"]
