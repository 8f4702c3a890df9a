"""Configuration of the supervised Error Level Analysis + CNN detector."""

from __future__ import annotations

from typing import Any, Sequence

from .base import DeepfakeDetectorConfig, checked_crop_settings


class ElaCnnConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.ElaCnnForImageClassification`.

    A compact CNN classifies real (0) versus fake (1) from the image's Error Level Analysis map (and, by default,
    the image itself), as made by :class:`~deepfake_detectors.ElaImageProcessor`. Unlike the one-class members
    it is trained on both classes; its score is the softmax probability of "fake".

    Args:
        image_size (`int`, defaults to 32): input side; must be at least ``2 ** len(hidden_sizes)`` (each stage
            halves it; a global average pool follows, so other sizes than the training one still run).
        num_channels (`int`, defaults to 6): input channels: 6 = normalised image + ELA map
            (``ElaImageProcessor(include_image=True)``), 3 = ELA map only.
        hidden_sizes (`list[int]`, defaults to `[32, 64, 128]`): channels of the stages; each stage is
            (conv 3x3 - batch norm - ReLU) x 2 then a 2x2 max pool.
        dropout (`float`, defaults to 0.25): dropout before the final linear layer.
        ela_quality (`int`, defaults to 90): JPEG quality of the ELA re-save; the processor saved beside the model
            carries the value actually used, this one is used by :meth:`ElaCnnForImageClassification.explain`.
        crops_per_side (`int`, *optional*): ``None`` (the CIFAKE model): one resized input
            (:class:`~deepfake_detectors.ElaImageProcessor`). A number: ``crops_per_side ** 2`` native-resolution
            crops of ``image_size`` pixels, each with its own ELA map
            (:class:`~deepfake_detectors.ElaCropImageProcessor`), their fake logits combined by
            ``crop_aggregation``.
        crop_aggregation (`str`, defaults to `"mean_logit"`): ``"mean_logit"``, ``"max_logit"`` or
            ``"top2_mean_logit"``.
        num_labels (`int`, defaults to 2): must be 2 (``id2label = {0: "real", 1: "fake"}``).
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.
        kwargs: passed to :class:`~deepfake_detectors.configuration.base.DeepfakeDetectorConfig`.

    Example:
        >>> config = ElaCnnConfig(hidden_sizes=[8, 16])
        >>> config.num_channels, config.id2label[1]
        (6, 'fake')
    """

    model_type = "deepfake-ela-cnn"
    #: Supervised: the best-F1 threshold on labelled validation data, the one its card reports.
    default_threshold_name = "optimal"
    #: Trainer's ``predictions`` are the logits only (``scores`` is the same information).
    keys_to_ignore_at_inference = ["scores"]

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 6,
        hidden_sizes: Sequence[int] = (32, 64, 128),
        dropout: float = 0.25,
        ela_quality: int = 90,
        crops_per_side: Any = None,
        crop_aggregation: str = "mean_logit",
        num_labels: int = 2,
        **kwargs: Any,
    ) -> None:
        hidden_sizes = [int(h) for h in hidden_sizes]
        if not hidden_sizes or any(h < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must be a non-empty list of positive ints, got {hidden_sizes}")
        if int(image_size) < 2 ** len(hidden_sizes):
            raise ValueError(
                f"image_size {image_size} is too small for {len(hidden_sizes)} stages "
                f"(each halves it; need at least {2 ** len(hidden_sizes)})"
            )
        if int(num_channels) not in (3, 6):
            raise ValueError(f"num_channels must be 6 (image + ELA map) or 3 (ELA map only), got {num_channels}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if not 1 <= int(ela_quality) <= 100:
            raise ValueError(f"ela_quality must be between 1 and 100, got {ela_quality}")
        if int(num_labels) != 2:
            raise ValueError(f"num_labels must be 2 (real = 0, fake = 1), got {num_labels}")
        self.crops_per_side, self.crop_aggregation = checked_crop_settings(crops_per_side, crop_aggregation)
        self.hidden_sizes = hidden_sizes
        self.dropout = float(dropout)
        self.ela_quality = int(ela_quality)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)
