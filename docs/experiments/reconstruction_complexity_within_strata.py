"""Why no selection set settles the complexity correction (2026-12-06, a diagnostic: no rule, nothing released).

``reconstruction_complexity_correction.py`` and ``reconstruction_complexity_tiebreak.py`` (logs beside them) asked
whether the reconstruction-error score should be corrected for image complexity (``score - slope * log(bits)``,
``bits`` the PNG code length of the scored crop, the slope fitted on 354 wild train real photos). The sets disagreed:
wild validation -0.173, the five new public sources +0.155, aiart train -0.012 (everything at chance there).

The correction only changes how images of *different* complexity are ranked against each other: among images of
equal complexity it is the released score minus a constant. So, written before this run, the prediction:

1. Within fifths of the PNG bits (``auroc_within_strata``), the released and the corrected score score within 0.02
   AUROC of each other on every set: on images of similar smoothness they see the same thing.
2. Their difference on a whole set follows the set's complexity shortcut: where AI images are smoother than the
   photos (wild validation: "fewer bits = AI" alone reaches 0.737) the released score gains from it and the
   correction loses; where both classes are equally complex (new sources 0.464, aiart 0.52) the correction removes
   variance that says nothing about the label.

If both hold, which score is better depends only on whether AI images are smoother than photos in the population
checked, a property of that population, not of generators; no further selection set can decide it for every
population. Scores are read from the tiebreak's cache (``runs/complexity_tiebreak``; rebuilt when missing).

Run from the repository root (2 CPU cores: about 20 minutes without the cache, seconds with it):
    python docs/experiments/reconstruction_complexity_within_strata.py \
        > docs/experiments/reconstruction_complexity_within_strata.log
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.evaluation.shortcuts import auroc_within_strata
from deepfake_detectors.features.complexity import ComplexityAdjustment

_spec = importlib.util.spec_from_file_location("tiebreak", Path(__file__).with_name("reconstruction_complexity_tiebreak.py"))
tiebreak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiebreak)
first_run = tiebreak.first_run


def main() -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(first_run.RELEASED)
    fit_scores, fit_bits = tiebreak.cached(detector, "wild_train_reals", first_run.wild_train_reals())
    shipped = ComplexityAdjustment.fit(fit_scores, fit_bits, log_score=False)
    print(f"correction: score - {shipped.slope:.3f} * log(bits), fitted on {shipped.n_real} wild train real photos\n")
    sets = {
        "wild validation": lambda: first_run.selection_set("wild validation"),
        "new sources": lambda: first_run.selection_set("new sources"),
        "aiart train re-encoded": lambda: tiebreak.aiart_train(reencode=True),
    }
    print("| set | fewer bits = AI, alone | released: AUROC / within bits fifths | corrected: AUROC / within "
          "| difference: whole / within |")
    print("|---|---|---|---|---|")
    for name, load in sets.items():
        images, labels, _ = load()
        scores, bits = tiebreak.cached(detector, name.replace(" ", "_"), images)
        corrected = scores - shipped.slope * np.log(bits)
        whole = [roc_auc_score(labels, values) for values in (scores, corrected)]
        within = [auroc_within_strata(labels, values, bits) for values in (scores, corrected)]
        print(f"| {name} ({len(labels)}, {int(labels.sum())} AI) | {roc_auc_score(labels, -bits):.3f} "
              f"| {whole[0]:.3f} / {within[0]:.3f} | {whole[1]:.3f} / {within[1]:.3f} "
              f"| {whole[1] - whole[0]:+.3f} / {within[1] - within[0]:+.3f} |")


if __name__ == "__main__":
    main()
