"""Texture one-class SVM: a scikit-learn ``OneClassSVM`` on LBP, GLCM and high-pass residual features."""

from __future__ import annotations

from typing import Any

from ..configuration.texture_ocsvm import TextureOCSVMConfig
from .feature_base import SklearnDetectorModel


class TextureOCSVMModel(SklearnDetectorModel):
    """One-class SVM on standardised texture features; score = ``-score_samples`` (higher = more likely fake).

    The fitted ``OneClassSVM`` is saved as ``estimator.skops`` next to ``config.json`` and loaded with the
    trusted-type list of :mod:`deepfake_detectors.modeling.feature_base`.

    Args:
        config: a :class:`TextureOCSVMConfig`.

    Example:
        >>> model = TextureOCSVMModel(TextureOCSVMConfig())
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = TextureOCSVMConfig
    base_model_prefix = "texture_ocsvm"

    def build_estimator(self) -> Any:
        from sklearn.svm import OneClassSVM

        return OneClassSVM(nu=self.config.nu, kernel=self.config.kernel, gamma=self.config.gamma)
