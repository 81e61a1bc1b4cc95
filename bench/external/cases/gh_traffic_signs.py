"""GitHub Traffic-Sign-Classifier: a small CNN on the German traffic-sign set (32x32 colour, 43 classes, 34,799
training images split 80/20), batch 512, 10 epochs of Adam(0.001).

The authors' fix changes the activations of the first convolutions (relu, relu, relu -> sigmoid, elu, elu) and
folds the separate ``Activation`` layers into the layers; DeepFD labels it "Activation". Skipped: the images are
downloaded at run time (``helper.maybe_download_traffic_signs``); the repository keeps only the label CSVs and five
example PNGs, and no bundled data set stands in for 43-class colour photographs of signs (whether a 3-filter 1x1
ReLU layer dies depends on those pixels).
"""

from __future__ import annotations

from ..harness import Case, Mirror, Program, Skip

CASE = Case(
    name="gh_traffic_signs",
    repo="Wardat-ISU/DeepLocalize",
    path="Benchmark/GitHub/{variant} Model/Traffic-Sign-Classifier",
    labels=("activation",),
    summary="Traffic-sign CNN (43 classes); the fix swaps the first ReLUs for sigmoid/ELU.",
    deviations=("not ported: the images are downloaded by the program and are not in the repository",),
)


def build(mirror: Mirror, variant: str) -> Program:
    raise Skip("Traffic-Sign-Classifier: the 34,799 sign images are downloaded at run time, not in the repository")
