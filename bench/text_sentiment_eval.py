"""Moved: sentiment quality is bench/text/sentiment_quality.py, speed bench/text/throughput.py.

Kept so that old commands still run: `--data` and `--no-train` go to sentiment_quality.py;
`--texts N` (speed) is now `bench/text/throughput.py --n N --parts sentiment,sentiment_trained`.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    if "--texts" in sys.argv:
        at = sys.argv.index("--texts")
        del sys.argv[at:at + 2]
        print("speed moved to bench/text/throughput.py --n N --parts sentiment,sentiment_trained", file=sys.stderr)
    sys.argv[0] = str(Path(__file__).parent / "text" / "sentiment_quality.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
