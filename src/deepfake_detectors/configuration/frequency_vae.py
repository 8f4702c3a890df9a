"""Configuration of the frequency-domain variational autoencoder."""

from __future__ import annotations

from typing import Any, Sequence

from .base import DeepfakeDetectorConfig


class FrequencyVAEConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.FrequencyVAEModel`.

    The model turns each image into centred 2-D Fourier spectra (log-magnitude, and the phase as cos / sin) of its
    luma, optionally also of each RGB channel, at several scales, and models these spectral maps with a small
    convolutional VAE trained on real images only. Generators leave periodic up-sampling peaks and a distorted
    high-frequency fall-off in the spectrum, which such a model reconstructs badly.

    Args:
        image_size (`int`, defaults to 32): input side. ``image_size // scale`` must be divisible by
            ``2 ** len(hidden_sizes)`` for every scale.
        num_channels (`int`, defaults to 3): input channels (RGB).
        scales (`list[int]`, defaults to `[1, 2]`): down-sampling factors of the analysed spectra (1 = full
            resolution, 2 = half resolution by 2x2 average pooling); each must divide ``image_size``.
        per_channel (`bool`, defaults to `False`): also analyse each RGB channel, not only the luma.
        use_phase (`bool`, defaults to `True`): add the phase (as cos and sin maps) to the log-magnitude.
        hidden_sizes (`list[int]`, defaults to `[32, 64]`): channels of the strided conv stages of each scale's
            encoder (each stage halves the side; the decoder mirrors it).
        latent_dim (`int`, defaults to 32): size of the shared Gaussian latent.
        beta (`float`, defaults to 1.0): weight of the KL term (per spectral element, so ``beta=1`` is the
            negative ELBO of a Gaussian decoder with variance 1/2, up to a constant).
        spectral_weight (`float`, defaults to 1.0): weight of the spectral-consistency term (L1 between the
            azimuthally averaged log-magnitude spectra of input and reconstruction), in the loss and the score.
        magnitude_eps (`float`, defaults to 1e-4): added to the magnitude before the logarithm.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = FrequencyVAEConfig(image_size=32, scales=[1, 2], hidden_sizes=[8, 16], latent_dim=8)
        >>> config.num_spectral_maps
        3
    """

    model_type = "deepfake-frequency-vae"

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 3,
        scales: Sequence[int] = (1, 2),
        per_channel: bool = False,
        use_phase: bool = True,
        hidden_sizes: Sequence[int] = (32, 64),
        latent_dim: int = 32,
        beta: float = 1.0,
        spectral_weight: float = 1.0,
        magnitude_eps: float = 1e-4,
        **kwargs: Any,
    ) -> None:
        scales = [int(s) for s in scales]
        hidden_sizes = [int(h) for h in hidden_sizes]
        if not scales or any(s < 1 for s in scales) or len(set(scales)) != len(scales):
            raise ValueError(f"scales must be distinct positive integers, got {scales}")
        if not hidden_sizes or any(h < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes needs at least one positive stage, got {hidden_sizes}")
        if int(num_channels) != 3:
            raise ValueError(f"num_channels must be 3 (RGB input), got {num_channels}")
        factor = 2 ** len(hidden_sizes)
        for scale in scales:
            if int(image_size) % scale or (int(image_size) // scale) % factor:
                raise ValueError(
                    f"image_size {image_size} must be divisible by scale {scale} and image_size // scale by "
                    f"2**{len(hidden_sizes)} = {factor}"
                )
        if int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
        if float(beta) < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if float(spectral_weight) < 0:
            raise ValueError(f"spectral_weight must be >= 0, got {spectral_weight}")
        if not float(magnitude_eps) > 0:
            raise ValueError(f"magnitude_eps must be > 0, got {magnitude_eps}")
        self.scales = scales
        self.per_channel = bool(per_channel)
        self.use_phase = bool(use_phase)
        self.hidden_sizes = hidden_sizes
        self.latent_dim = int(latent_dim)
        self.beta = float(beta)
        self.spectral_weight = float(spectral_weight)
        self.magnitude_eps = float(magnitude_eps)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)

    @property
    def num_sources(self) -> int:
        """Analysed planes per scale: the luma, plus the three RGB channels with ``per_channel``."""
        return 1 + (3 if self.per_channel else 0)

    @property
    def num_spectral_maps(self) -> int:
        """Spectral maps per scale: (log-magnitude [, cos phase, sin phase]) for every analysed plane."""
        return self.num_sources * (3 if self.use_phase else 1)
