"""Where tests find the shared evaluation recordings: ``shared/eval`` beside the checkout, as the
developers' machines and CI lay it out (``EARSHOT_EVAL_DIR`` overrides)."""

from __future__ import annotations

import os
from pathlib import Path

EVAL = Path(os.environ.get("EARSHOT_EVAL_DIR") or Path(__file__).resolve().parents[2] / "shared" / "eval")
