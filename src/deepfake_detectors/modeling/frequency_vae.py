"""Frequency VAE: a small conv VAE on multi-scale Fourier spectra; its negative ELBO is the fake-ness score."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from ..configuration.frequency_vae import FrequencyVAEConfig
from ..features.statistics import grayscale
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput, NoInitialStatisticsMixin

_LOGVAR_RANGE = (-10.0, 10.0)
_MIN_STD = 1e-3


def radial_index(side: int, device: torch.device) -> torch.Tensor:
    """Integer radius (rounded, 0 at the centre of an ``fftshift``-ed ``side x side`` spectrum), flattened."""
    coords = torch.arange(side, device=device, dtype=torch.float32) - side // 2
    radius = (coords[:, None].pow(2) + coords[None, :].pow(2)).sqrt()
    return radius.round().long().clamp_max(side // 2).flatten()


def radial_profile(maps: torch.Tensor) -> torch.Tensor:
    """Azimuthal mean of centred spectra ``[batch, channels, side, side]`` -> ``[batch, channels, side // 2 + 1]``."""
    side = maps.shape[-1]
    index = radial_index(side, maps.device)
    bins = side // 2 + 1
    flat = maps.flatten(2)
    sums = flat.new_zeros(*flat.shape[:2], bins).index_add_(2, index, flat)
    counts = torch.bincount(index, minlength=bins).clamp_min(1).to(flat.dtype)
    return sums / counts


class FrequencyVAEModel(NoInitialStatisticsMixin, DeepfakeDetectorPreTrainedModel):
    """Variational autoencoder on the Fourier spectra of real images (one-class).

    For every scale in ``config.scales`` the luma (and with ``per_channel`` each RGB channel) is mean-removed,
    transformed with a centred, orthonormal 2-D FFT and turned into fixed-normalised spectral maps: the
    log-magnitude standardised per image and map (so the radial fall-off shape, not the image contrast, is
    modelled) and, with ``use_phase``, the phase as cos / sin. One conv encoder per scale feeds a shared Gaussian
    latent; one transposed-conv decoder per scale reconstructs that scale's maps.

    Per image, with ``N`` spectral elements:
    ``score = MSE(maps, recon) + spectral_weight * L1(radial(logmag), radial(logmag_recon)) + beta * KL / N``,
    a negative-ELBO proxy. The loss is its batch mean with a reparameterised sample; in eval mode the posterior
    mean is decoded, so scores are deterministic.

    Args:
        config: a :class:`FrequencyVAEConfig`.

    Example:
        >>> config = FrequencyVAEConfig(image_size=32, hidden_sizes=[8, 16], latent_dim=8)
        >>> model = FrequencyVAEModel(config).eval()
        >>> model(torch.zeros(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = FrequencyVAEConfig
    base_model_prefix = "frequency_vae"

    def __init__(self, config: FrequencyVAEConfig) -> None:
        super().__init__(config)
        maps = config.num_spectral_maps
        sizes = config.hidden_sizes
        self.sides = [config.image_size // scale for scale in config.scales]
        self.bottom_sides = [side // 2 ** len(sizes) for side in self.sides]
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for _ in config.scales:
            encoder: list[nn.Module] = []
            in_channels = maps
            for out_channels in sizes:
                encoder += [nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
                in_channels = out_channels
            self.encoders.append(nn.Sequential(*encoder))
            decoder: list[nn.Module] = []
            for out_channels in list(reversed(sizes[:-1])) + [sizes[0]]:
                decoder += [
                    nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1),
                    nn.LeakyReLU(0.2),
                ]
                in_channels = out_channels
            decoder.append(nn.Conv2d(in_channels, maps, 3, padding=1))
            self.decoders.append(nn.Sequential(*decoder))
        self.flat_sizes = [sizes[-1] * side * side for side in self.bottom_sides]
        total = sum(self.flat_sizes)
        self.to_posterior = nn.Linear(total, 2 * config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, total)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            init.kaiming_normal_(module.weight, a=0.2, nonlinearity="leaky_relu")
            init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)

    @property
    def num_spectral_elements(self) -> int:
        """Values per image in all spectral maps together (the ``N`` that normalises the KL term)."""
        return self.config.num_spectral_maps * sum(side * side for side in self.sides)

    @torch.no_grad()
    def spectral_maps(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        """Fixed-normalised spectral maps, one ``[batch, num_spectral_maps, side, side]`` tensor per scale.

        Channel order: the log-magnitudes of all analysed planes (luma first), then their cos-phase maps, then
        their sin-phase maps.

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, image_size, image_size]``.
        """
        expected = self.config.image_size
        if pixel_values.ndim != 4 or tuple(pixel_values.shape[1:]) != (3, expected, expected):
            raise ValueError(
                f"expected pixel_values of shape [batch, 3, {expected}, {expected}], got {tuple(pixel_values.shape)}"
            )
        unit = (pixel_values.float() + 1.0) / 2.0
        planes = grayscale(unit)
        if self.config.per_channel:
            planes = torch.cat([planes, unit], dim=1)
        eps = self.config.magnitude_eps
        result = []
        for scale in self.config.scales:
            level = planes if scale == 1 else F.avg_pool2d(planes, scale)
            level = level - level.mean(dim=(-2, -1), keepdim=True)
            spectrum = torch.fft.fftshift(torch.fft.fft2(level, norm="ortho"), dim=(-2, -1))
            magnitude = spectrum.abs()
            log_magnitude = torch.log(magnitude + eps)
            mean = log_magnitude.mean(dim=(-2, -1), keepdim=True)
            std = log_magnitude.std(dim=(-2, -1), keepdim=True).clamp_min(_MIN_STD)
            parts = [(log_magnitude - mean) / std]
            if self.config.use_phase:
                defined = magnitude > eps  # the phase of a (near-)zero coefficient is noise: set it to 0
                safe = magnitude.clamp_min(eps)
                parts.append(torch.where(defined, spectrum.real / safe, torch.ones_like(magnitude)))
                parts.append(torch.where(defined, spectrum.imag / safe, torch.zeros_like(magnitude)))
            result.append(torch.cat(parts, dim=1))
        return result

    def encode(self, maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance ``[batch, latent_dim]`` of per-scale spectral maps."""
        hidden = torch.cat([encoder(m).flatten(1) for encoder, m in zip(self.encoders, maps)], dim=1)
        mean, logvar = self.to_posterior(hidden).chunk(2, dim=1)
        return mean, logvar.clamp(*_LOGVAR_RANGE)

    def decode(self, latent: torch.Tensor) -> list[torch.Tensor]:
        """Reconstructed spectral maps, one tensor per scale, from latent codes ``[batch, latent_dim]``."""
        hidden = F.leaky_relu(self.from_latent(latent), 0.2).split(self.flat_sizes, dim=1)
        width = self.config.hidden_sizes[-1]
        return [
            decoder(h.view(latent.shape[0], width, side, side))
            for decoder, h, side in zip(self.decoders, hidden, self.bottom_sides)
        ]

    def loss_terms(
        self, maps: list[torch.Tensor], reconstruction: list[torch.Tensor], mean: torch.Tensor, logvar: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Per-image ``reconstruction`` (MSE), ``spectral`` (radial L1) and ``kl`` (per spectral element) terms."""
        squared = torch.cat([(r - m).pow(2).flatten(1) for m, r in zip(maps, reconstruction)], dim=1)
        sources = self.config.num_sources
        spectral = torch.stack(
            [
                (radial_profile(r[:, :sources]) - radial_profile(m[:, :sources])).abs().flatten(1).mean(dim=1)
                for m, r in zip(maps, reconstruction)
            ],
            dim=1,
        ).mean(dim=1)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1) / self.num_spectral_elements
        return {"reconstruction": squared.mean(dim=1), "spectral": spectral, "kl": kl}

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Encode the spectra, decode a posterior sample (the mean in eval mode) and score the batch.

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, image_size, image_size]``.
            labels: ignored (one-class training on real images only); accepted for Trainer compatibility.

        Returns:
            :class:`DetectorOutput` with ``loss`` (mean negative-ELBO proxy), ``scores`` (its per-image value)
            and ``embeddings`` (the posterior mean).
        """
        maps = self.spectral_maps(pixel_values)
        mean, logvar = self.encode(maps)
        latent = mean + torch.randn_like(mean) * (0.5 * logvar).exp() if self.training else mean
        terms = self.loss_terms(maps, self.decode(latent), mean, logvar)
        per_image = (
            terms["reconstruction"] + self.config.spectral_weight * terms["spectral"] + self.config.beta * terms["kl"]
        )
        return DetectorOutput(loss=per_image.mean(), scores=per_image.detach(), embeddings=mean)
