"""Residual convolutional autoencoder: reconstruction error of real-trained weights as a fake-ness score."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional, Union

import numpy as np
import torch
from torch import nn
from transformers import initialization as init

from ..configuration.autoencoder import ResidualAutoencoderConfig
from ..features.filters import highpass_residual
from .base import (
    DeepfakeDetectorPreTrainedModel,
    DetectorOutput,
    Explanation,
    NoInitialStatisticsMixin,
    aggregate_crop_logits,
    convolution_layout,
    crop_map_canvas,
    convolve_and_normalise,
    reset_batch_norm,
)

if TYPE_CHECKING:
    from ..processing import DeepfakeImageProcessor, ImageInput
    from ..processing_crops import NativeCropImageProcessor


class ResidualBlock(nn.Module):
    """Two 3x3 conv + batch-norm layers with an identity shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(channels)
        self.activation = nn.ReLU(inplace=True)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        residual = self.activation(convolve_and_normalise(self.conv1, self.norm1, hidden))
        residual = convolve_and_normalise(self.conv2, self.norm2, residual)
        return self.activation(hidden + residual)


def _conv_norm_act(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


class ResidualAutoencoderModel(NoInitialStatisticsMixin, DeepfakeDetectorPreTrainedModel):
    """Residual convolutional autoencoder trained on real images only.

    ``forward`` returns the mean squared reconstruction error as the loss and, per image, the reconstruction
    error as the fake-ness score (higher = less like the real training images).

    Args:
        config: a :class:`ResidualAutoencoderConfig`.

    Example:
        >>> config = ResidualAutoencoderConfig(image_size=32, hidden_sizes=[8, 8, 16, 16, 32], latent_dim=16)
        >>> model = ResidualAutoencoderModel(config)
        >>> model(torch.zeros(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = ResidualAutoencoderConfig
    takes_crops = True
    base_model_prefix = "autoencoder"

    def __init__(self, config: ResidualAutoencoderConfig) -> None:
        super().__init__(config)
        sizes = config.hidden_sizes
        self.bottom_side = config.image_size // 2 ** len(sizes)
        flat = sizes[-1] * self.bottom_side**2

        self.stem = _conv_norm_act(nn.Conv2d(config.num_channels, sizes[0], 3, padding=1, bias=False), sizes[0])
        encoder: list[nn.Module] = []
        in_channels = sizes[0]
        for out_channels in sizes:
            encoder += [ResidualBlock(in_channels) for _ in range(config.blocks_per_stage)]
            encoder.append(
                _conv_norm_act(nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False), out_channels)
            )
            in_channels = out_channels
        self.encoder = nn.Sequential(*encoder)
        self.to_latent = nn.Linear(flat, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, flat)

        decoder: list[nn.Module] = []
        targets = list(reversed([sizes[0]] + sizes[:-1]))
        for out_channels in targets:
            decoder.append(
                _conv_norm_act(
                    nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False), out_channels
                )
            )
            decoder += [ResidualBlock(out_channels) for _ in range(config.blocks_per_stage)]
            in_channels = out_channels
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Conv2d(sizes[0], config.num_channels, 3, padding=1)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
        elif isinstance(module, nn.BatchNorm2d):
            reset_batch_norm(module)

    def encode(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Map images in [-1, 1] to the ``latent_dim`` bottleneck vector."""
        return self.to_latent(self.encoder(self.stem(convolution_layout(pixel_values))).flatten(1))

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Map a bottleneck vector back to an image in [-1, 1] (tanh output)."""
        side = self.bottom_side
        hidden = self.from_latent(latent).view(latent.shape[0], -1, side, side)
        hidden = convolution_layout(hidden)
        return torch.tanh(self.head(self.decoder(torch.relu(hidden))))

    def error_map(self, pixel_values: torch.Tensor, reconstruction: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Per-pixel squared reconstruction error averaged over channels, ``[batch, H, W]`` (for explanations).

        With ``config.highpass_weight > 0`` the high-pass error is added with that weight.
        """
        if reconstruction is None:
            reconstruction = self.decode(self.encode(pixel_values))
        error = (reconstruction - pixel_values).pow(2)
        if self.config.highpass_weight > 0:
            detail = highpass_residual(reconstruction) - highpass_residual(pixel_values)
            error = error + self.config.highpass_weight * detail.pow(2)
        return error.mean(dim=1)

    @torch.no_grad()
    def explain(self, image: "ImageInput", processor: Optional[Any] = None) -> Explanation:
        """Where the autoencoder fails to reconstruct the image (bright = badly reconstructed, i.e. unusual).

        Args:
            image: a path, PIL image, array or bytes.
            processor: the image processor saved with the model (default: :meth:`default_processor`).

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` with ``method="reconstruction error"`` and no
            probability (a one-class model has a score, not a P(fake)). With a resizing processor the map is at
            the model's input size; with native crops it is at the image's own size (upscaled first when the
            processor does), showing the error of every crop the score is made of (overlaps averaged) and 0 where
            no crop was scored.

        Example:
            >>> model.explain("examples/real_01.jpg").overlay.save("error.png")  # doctest: +SKIP
        """
        from matplotlib import colormaps
        from PIL import Image

        from ..processing import load_image

        processor = processor or self.default_processor()
        was_training = self.training
        self.eval()
        try:
            loaded = load_image(image)  # decoded once, for the processor and for the crop positions
            pixel_values = processor([loaded])["pixel_values"].to(self.device)
            if pixel_values.dim() == 5:
                error = self._crop_error_canvas(loaded, processor, pixel_values[0])
            else:
                error = self.error_map(pixel_values)[0].float().cpu().numpy()
        finally:
            self.train(was_training)
        heatmap = (error / error.max() if error.max() > 0 else error).astype(np.float32)
        overlay = Image.fromarray((colormaps["magma"](heatmap)[..., :3] * 255).astype(np.uint8))
        return Explanation(heatmap=heatmap, overlay=overlay, probability=None, method="reconstruction error")

    def _crop_error_canvas(self, image: Any, processor: "NativeCropImageProcessor", crops: torch.Tensor) -> np.ndarray:
        """The error maps of an image's ``[K, 3, h, w]`` crops placed where the processor cut them."""
        return crop_map_canvas(image, processor, self.error_map(crops).float().cpu().numpy())[0]

    def reconstruction_error(
        self, pixel_values: torch.Tensor, reduction: Literal["none", "mean"] = "none"
    ) -> torch.Tensor:
        """Mean squared reconstruction error per image (``"none"``) or over the batch (``"mean"``).

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, H, W]``.
            reduction: ``"none"`` returns ``[batch]``, ``"mean"`` a scalar.
        """
        if reduction not in ("none", "mean"):
            raise ValueError(f"reduction must be 'none' or 'mean', got {reduction!r}")
        per_image = self.error_map(pixel_values).flatten(1).mean(dim=1)
        return per_image if reduction == "none" else per_image.mean()

    def default_processor(self) -> Union["DeepfakeImageProcessor", "NativeCropImageProcessor"]:
        """The processor this config implies (the one saved beside the model is the same): resizing to
        ``image_size``, or native crops of that size (smaller images upscaled to it) when ``config.crops_per_side``
        is set; both map pixels to [-1, 1]."""
        from ..processing import DeepfakeImageProcessor
        from ..processing_crops import unit_range_crop_processor

        if self.config.crops_per_side:
            return unit_range_crop_processor(self.config.image_size, self.config.crops_per_side)
        return DeepfakeImageProcessor(size=self.config.image_size)

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Reconstruct the batch; ``loss`` is the mean reconstruction error, ``scores`` the per-image error.

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, image_size, image_size]``, or native crops
                ``[batch, crops, 3, image_size, image_size]`` (an image's score is its crops' errors combined by
                ``config.crop_aggregation``).
            labels: ignored (one-class training uses real images only); accepted for Trainer compatibility.
        """
        crops = pixel_values.shape[1] if pixel_values.dim() == 5 else None
        if crops is not None:
            pixel_values = pixel_values.flatten(0, 1)
        reconstruction = self.decode(self.encode(pixel_values))
        per_image = self.error_map(pixel_values, reconstruction).flatten(1).mean(dim=1)
        loss = per_image.mean()
        if crops is not None:
            per_image = aggregate_crop_logits(per_image.view(-1, crops), self.config.crop_aggregation)
        return DetectorOutput(loss=loss, scores=per_image.detach(), reconstruction=reconstruction)
