"""The checked-in generated code matches proto/ exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_is_fresh() -> None:
    """scripts/gen_proto.py --check finds nothing to regenerate."""
    done = subprocess.run([sys.executable, "scripts/gen_proto.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
