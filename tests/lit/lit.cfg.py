# lit configuration for euler's FileCheck tests.
#
# Tools come from the Python environment running lit: `euler-opt` and `euler`
# are its console scripts, `FileCheck` and `mlir-opt` ship in the LLVM/MLIR
# tool wheels.
import os
import shutil
import sys

import lit.formats
import llvm
import mlir.ir

config.name = "euler"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir"]
config.excludes = ["Inputs", "lit.cfg.py"]
config.test_source_root = os.path.dirname(__file__)

llvm_bin = os.path.join(os.path.dirname(llvm.__file__), "bin")
mlir_bin = os.path.join(os.path.dirname(mlir.ir.__file__), "bin")
python_bin = os.path.dirname(sys.executable)
config.environment["PATH"] = os.pathsep.join(
    [python_bin, llvm_bin, mlir_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])
for var in ("HOME", "PYTHONPATH", "EULER_NUM_THREADS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# The tile heuristics follow the host's vector unit; the CHECK lines are
# written for AVX-512's (8x32 f32 register tiles, 64-element rows).
config.environment["EULER_CPU"] = "avx512"

config.substitutions.append(("%PYTHON", sys.executable))
config.substitutions.append(("%irdl", os.path.join(config.test_source_root, "..", "..",
                                                   "dialects", "euler.irdl.mlir")))
if shutil.which("euler-opt", path=config.environment["PATH"]) is None:
    lit_config.fatal("euler-opt not found: install euler (pip install .) into this Python")
