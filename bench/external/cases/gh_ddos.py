"""GitHub DDOS-ML-Detection: a dropout MLP (27 features -> 5 attack classes) on the DDoS network-log table
``final-dataset.arff``, last 10% of the rows as validation, 2 epochs of Adam.

The authors' fix shrinks the network (22-64-128-64 -> 30-10-10, dropout 0.4 kept); DeepFD labels it a layer fault.
Skipped: the data (``data/DDOS-ML-Datasets-...zip``, about 2.1 million rows) are over the fetch size limit and
absent from the fetched copy. The authors' own curve shows a model stuck at the majority class (validation accuracy
0.896 from the first epoch, loss about 1.7): a collapse that depends on the unscaled, imbalanced real features, so a
generated table of the same shape would decide the outcome by whatever scales and class shares we invented.
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program, Skip

CASE = Case(
    name="gh_ddos",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/DDOS-ML-Detection",
    labels=("layers",),
    summary="DDoS traffic MLP (5 classes, 2 epochs); the fix replaces 22-64-128-64 with 30-10-10.",
    deviations=("not ported: the data zip is not in the fetched copy",),
)


def build(mirror: Mirror, variant: str) -> Program:
    raise Skip(
        "DDOS-ML-Detection: the data zip (about 2.1 million rows) is not in the fetched copy; a generated table"
        " would decide whether the model collapses to the majority class"
    )
