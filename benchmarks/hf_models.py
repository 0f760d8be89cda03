"""Hugging Face `transformers` models through euler, against eager PyTorch and Inductor.

    pip install '.[bench]' && python benchmarks/hf_models.py      # --all: the other families too

The five families of issue 11 (ResNet-18, MobileNetV2, BERT, GPT-2, Llama
with grouped-query attention) at benchmark sizes (224x224 images; 128
tokens, d = 256, 2 layers; `examples/hf_models.py`), built from configs with
random weights, at 1 and 2 threads. The timing and the table are
`benchmarks/torch_models.py`'s (each model in its own process, backends
interleaved, best round counts, outputs checked against eager); this script
only supplies the models. One markdown table per thread count, with compile
times.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import hf_models  # noqa: E402
import torch_models  # noqa: E402


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    everything = "--all" in argv
    if everything:
        argv.remove("--all")
    models = hf_models.zoo("bench", None if everything else list(hf_models.FAMILIES))
    if "--worker" in argv or "--threads" in argv:
        return torch_models.main(argv, models, script=os.path.abspath(__file__))
    for threads in (1, 2):
        torch_models.main(argv + ["--threads", str(threads)], models,
                          script=os.path.abspath(__file__))


if __name__ == "__main__":
    main()
