"""One verdict everywhere: for every bundled repo and every threshold, the shown probability agrees with the verdict.

The pipeline view (``DetectionResult.as_pipeline_output``, what ``gradio.Label`` and the Space show) must put the
verdict's label first, in Python and through the Space's API.
"""

from __future__ import annotations

import pytest

from conftest import REPO_ROOT
from deepfake_detectors import EnsembleDeepfakeDetector

REPOS = sorted(path.name for path in (REPO_ROOT / "hub_repos").iterdir() if (path / "config.json").is_file())
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.jpg"))
THRESHOLD_NAMES = ["strict", "balanced", "sensitive", "optimal"]


def _threshold_names(detector: EnsembleDeepfakeDetector) -> list[str]:
    return [name for name in THRESHOLD_NAMES if name in detector.calibration.thresholds]


def _score_once(detector: EnsembleDeepfakeDetector) -> None:
    """Make ``detector`` score each list of images once and answer later calls on the same list from memory.

    The verdict of a threshold is decided after scoring (``predict`` -> ``_result``), so re-running the networks for
    each threshold checks nothing more; the slow photo detectors (0.5 s an image) made this test take minutes.
    """
    real_score_images = detector.score_images
    remembered: dict[tuple, tuple] = {}

    def score_images(images, *args, **kwargs):
        key = (tuple(str(image) for image in images), kwargs.get("return_domain", False))
        if key not in remembered:
            remembered[key] = real_score_images(images, *args, **kwargs)
        return remembered[key]

    detector.score_images = score_images


@pytest.mark.parametrize("repo", REPOS)
def test_top_label_of_the_pipeline_view_is_the_verdict_for_every_threshold(repo: str) -> None:
    detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / repo)
    _score_once(detector)
    assert len(EXAMPLES) >= 8
    names = _threshold_names(detector)
    assert {"strict", "balanced", "sensitive"} <= set(names)
    seen_labels = set()
    for name in [*names, 0.5, 0.9]:
        for result in detector.predict(EXAMPLES, threshold=name):
            view = result.as_pipeline_output()
            assert view[0]["label"] == result.label, (repo, name, result.source)
            assert view[0]["score"] >= 0.5 and view[0]["score"] == pytest.approx(result.confidence)
            assert (result.probability >= 0.5) == result.is_fake
            seen_labels.add(result.label)
    assert seen_labels == {"real", "fake"}, f"{repo}: every example got the same verdict at every threshold"


def test_each_repo_names_its_default_threshold_and_supervised_ones_use_optimal() -> None:
    import json

    for repo in REPOS:
        detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / repo)
        config = json.loads((REPO_ROOT / "hub_repos" / repo / "config.json").read_text())
        assert detector.threshold[1] == config["default_threshold"], repo
    for repo in ("deepfake-efficientnet", "deepfake-ela-cnn"):
        detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / repo)
        assert detector.threshold[1] == "optimal"
