"""Runs the lit + FileCheck suite (tests/lit) as one pytest test."""

import os
import subprocess
import sys


def test_lit_suite():
    lit_dir = os.path.join(os.path.dirname(__file__), "lit")
    proc = subprocess.run([sys.executable, "-c", "from lit.main import main; main()", "-sv", lit_dir],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
