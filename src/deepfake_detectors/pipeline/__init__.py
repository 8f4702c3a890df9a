"""``EnsembleDeepfakeDetector``: load detectors, score images, calibrate, threshold, save and publish.

One class serves every use: an ensemble repo (``config.json`` with ``model_type = "deepfake-ensemble"`` and
``members/<name>/`` subfolders) or a single detector repo, which is wrapped as a one-member ensemble so that the
CLI, the Space and notebooks all call the same ``predict``. The class is split by job, one module each:

- :mod:`.loading`: find, load, save and publish repos (``EnsembleIO``, ``load_member``);
- :mod:`.scoring`: batched decoding and scoring, member scores and their weighted mean (``EnsembleScoring``);
- :mod:`.thresholds`: the threshold in use and the shown P(fake) (``ThresholdPolicy``);
- :mod:`.calibrating`: fitting statistics and thresholds on validation images (``EnsembleCalibration``);
- :mod:`.detector`: the class itself and its verdicts (``predict``); :mod:`.result`: ``DetectionResult``.
"""

from .detector import EnsembleDeepfakeDetector
from .loading import (
    CALIBRATION_FILE,
    LOADING_LOCK,
    check_finite_config,
    check_finite_numbers,
    load_domain,
    load_member,
    loading_progress,
    member_directory,
    resolve_model_dir,
)
from .result import DetectionResult
from .scoring import BATCH_BYTE_BUDGET

__all__ = [
    "BATCH_BYTE_BUDGET",
    "CALIBRATION_FILE",
    "DetectionResult",
    "EnsembleDeepfakeDetector",
    "LOADING_LOCK",
    "check_finite_config",
    "check_finite_numbers",
    "load_domain",
    "load_member",
    "loading_progress",
    "member_directory",
    "resolve_model_dir",
]
