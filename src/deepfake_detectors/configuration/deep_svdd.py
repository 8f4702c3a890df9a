"""Configuration of Deep SVDD (one-class deep support vector data description)."""

from __future__ import annotations

from typing import Any, Sequence

from .base import DeepfakeDetectorConfig


class DeepSVDDConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.DeepSVDDModel` (Ruff et al., 2018, one-class objective).

    The encoder has no bias terms and no affine normalisation, so it cannot map every input to the centre with
    constant weights (the trivial "hypersphere collapse" the method warns about).

    Args:
        image_size (`int`, defaults to 32): input side; must be divisible by ``2 ** len(hidden_sizes)``.
        num_channels (`int`, defaults to 3): input channels.
        hidden_sizes (`list[int]`, defaults to `[32, 64, 128]`): channels of the conv stages (each halves the side).
        rep_dim (`int`, defaults to 128): dimension of the embedding whose distance to the centre is the score.
        center_eps (`float`, defaults to 0.1): centre coordinates closer to 0 than this are pushed to +-eps, as in
            the reference method, so that a zero-weight network cannot reach the centre.
        input_highpass (`bool`, defaults to `True`): also feed the image's high-pass residual (image minus its 3x3
            blur) as extra channels; generator traces live mostly in high frequencies.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> DeepSVDDConfig(rep_dim=32).rep_dim
        32
    """

    model_type = "deepfake-deep-svdd"

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 3,
        hidden_sizes: Sequence[int] = (32, 64, 128),
        rep_dim: int = 128,
        center_eps: float = 0.1,
        input_highpass: bool = True,
        **kwargs: Any,
    ) -> None:
        hidden_sizes = [int(h) for h in hidden_sizes]
        factor = 2 ** len(hidden_sizes)
        if int(image_size) % factor:
            raise ValueError(f"image_size {image_size} must be divisible by 2**{len(hidden_sizes)} = {factor}")
        self.hidden_sizes = hidden_sizes
        self.rep_dim = int(rep_dim)
        self.center_eps = float(center_eps)
        self.input_highpass = bool(input_highpass)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)
