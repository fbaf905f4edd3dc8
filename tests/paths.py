"""Where tests find their recordings: the shared evaluation set, ``shared/eval`` beside the
checkout as the developers' machines and CI lay it out (``EARSHOT_EVAL_DIR`` overrides), and the
repository's own demo calls."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("EARSHOT_EVAL_DIR") or REPO.parent / "shared" / "eval")
SAMPLE_AUDIO = REPO / "sample_audio"
