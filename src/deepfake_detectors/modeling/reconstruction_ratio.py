"""Reconstruction-ratio detector: an image a pretrained autoencoder reconstructs more easily than its detail predicts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import torch
from torch.nn import functional as F

from ..configuration.reconstruction_ratio import ReconstructionRatioConfig
from .base import (
    DeepfakeDetectorPreTrainedModel,
    DetectorOutput,
    Explanation,
    NoInitialStatisticsMixin,
    aggregate_crop_logits,
    convolution_layout,
    explained_crop_maps,
    percentile_heatmap,
)
from .tiny_autoencoder import load_tiny_weights, tiny_decoder, tiny_encoder

if TYPE_CHECKING:
    from ..processing import ImageInput
    from ..processing_crops import NativeCropImageProcessor

#: Crops sent through the autoencoder at a time: its 64-channel activations at full resolution take 16 MB per crop of
#: 256 px, and larger chunks spend their time allocating memory (on 2 CPU cores: 0.89 s per crop one at a time, 1.23 s
#: four at a time, several seconds for a pipeline batch of 64 at once).
RECONSTRUCTION_CHUNK = 1
#: Floor of a reconstruction error (mean absolute difference on the [0, 1] scale) before the logarithm.
_ERROR_FLOOR = 1e-6


class ReconstructionRatioModel(NoInitialStatisticsMixin, DeepfakeDetectorPreTrainedModel):
    """A pretrained image autoencoder; an image it reconstructs more easily than its detail predicts scores as fake.

    ``forward`` returns, per image, ``log(e2 / e1)`` (see :class:`~deepfake_detectors.ReconstructionRatioConfig`):
    ``e1`` the error of reconstructing each crop, ``e2`` the error of reconstructing that reconstruction. Nothing is
    trained; :meth:`from_tiny_autoencoder` builds it from the ``*_encoder.pth`` / ``*_decoder.pth`` files of
    ``madebyollin/taesd``, and ``save_pretrained`` stores them as safetensors.

    Args:
        config: a :class:`ReconstructionRatioConfig`.

    Example:
        >>> model = ReconstructionRatioModel(ReconstructionRatioConfig(image_size=16))
        >>> model.eval()(torch.zeros(2, 4, 3, 16, 16)).scores.shape
        torch.Size([2])
    """

    config_class = ReconstructionRatioConfig
    takes_crops = True
    base_model_prefix = "reconstruction_ratio"
    #: An image smaller than a crop is enlarged to it, and enlarged pixels are easy to reconstruct, i.e. look
    #: generated: the pipeline marks such images out of domain (``in_domain=False``, with the reason).
    judges_enlarged_images = False
    #: The ``method`` of :meth:`explain`'s result.
    explanation_method = "reconstruction ratio"
    #: Whether :meth:`set_reduced_precision` may run the autoencoder in bfloat16; decided per detector on wild
    #: validation (``docs/experiments/bfloat16_inference.py``, rule written before the run: AUROC change < 0.005,
    #: < 1% of verdicts changed). This ratio of two small pixel errors failed it (AUROC 0.6878 -> 0.6770, 1.9% of
    #: verdicts changed).
    supports_reduced_precision = False

    def __init__(self, config: ReconstructionRatioConfig) -> None:
        super().__init__(config)
        self.encoder = tiny_encoder(config.latent_channels, config.global_context)
        self.decoder = tiny_decoder(config.latent_channels, config.global_context)
        #: Whether the autoencoder runs in bfloat16 (:meth:`set_reduced_precision`); a runtime choice, never saved.
        self.reduced_precision = False
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        """Nothing to initialise: the weights always come from a pretrained autoencoder (or the tests' random ones)."""

    def set_reduced_precision(self, enabled: bool) -> bool:
        """Run the autoencoder (most of the scoring time) in bfloat16 instead of float32, where the detector's class
        allows it (``supports_reduced_precision``); every other step and the thresholds stay as they are.

        Args:
            enabled: ``True`` for bfloat16, ``False`` for float32 (the default, in which it was calibrated).

        Returns:
            Whether this detector supports it (nothing changes when it does not).

        Example:
            >>> model = ReconstructionRatioModel(ReconstructionRatioConfig(image_size=16)).eval()
            >>> model.set_reduced_precision(True)  # the ratio does not: see supports_reduced_precision
            False
        """
        if not self.supports_reduced_precision:
            return False
        self.reduced_precision = bool(enabled)
        return True

    @classmethod
    def from_tiny_autoencoder(
        cls, encoder_path: Union[str, Path], decoder_path: Union[str, Path], config: Optional[ReconstructionRatioConfig] = None
    ) -> "ReconstructionRatioModel":
        """The detector around a tiny autoencoder's two weight files (read as tensors only).

        Args:
            encoder_path: ``*_encoder.pth`` state dict (e.g. ``taef2_encoder.pth``).
            decoder_path: ``*_decoder.pth`` state dict.
            config: settings (default: :class:`ReconstructionRatioConfig`, the FLUX.2 tiny autoencoder's layout).

        Example:
            >>> model = ReconstructionRatioModel.from_tiny_autoencoder("taef2_encoder.pth", "taef2_decoder.pth")  # doctest: +SKIP
        """
        model = cls(config or ReconstructionRatioConfig())
        load_tiny_weights(model.encoder, encoder_path)
        load_tiny_weights(model.decoder, decoder_path)
        return model.eval()

    def reconstruct(self, pixels: torch.Tensor) -> torch.Tensor:
        """Encode and decode images on the [0, 1] scale ``[batch, 3, h, w]`` (sides multiples of 8), in float32, or
        in bfloat16 after :meth:`set_reduced_precision` (the result is float32 either way)."""
        pixels = convolution_layout(pixels)
        if not self.reduced_precision:
            return self.decoder(self.encoder(pixels)).clamp(0, 1)
        with torch.autocast(pixels.device.type, dtype=torch.bfloat16):
            reconstruction = self.decoder(self.encoder(pixels))
        return reconstruction.float().clamp(0, 1)

    def error_maps(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-pixel absolute errors ``[batch, h, w]`` of the first and the second reconstruction.

        Args:
            pixel_values: crops ``[batch, 3, h, w]`` in [-1, 1] (the processor's output).
        """
        pixels = (pixel_values.float() + 1.0) / 2.0
        first = self.reconstruct(pixels)
        second = self.reconstruct(first)
        return (pixels - first).abs().mean(1), (first - second).abs().mean(1)

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Score the batch: ``scores`` is :meth:`crop_scores` (here ``log(e2 / e1)``) per image, its crops combined
        by ``config.crop_aggregation``.

        Args:
            pixel_values: native crops ``[batch, crops, 3, image_size, image_size]`` in [-1, 1], or single crops
                ``[batch, 3, h, w]`` with h and w multiples of 8.
            labels: ignored (nothing is trained); accepted for Trainer compatibility.
        """
        crops = pixel_values.shape[1] if pixel_values.dim() == 5 else None
        if crops is not None:
            pixel_values = pixel_values.flatten(0, 1)
        if pixel_values.shape[-1] % 8 or pixel_values.shape[-2] % 8:
            raise ValueError(f"image sides must be multiples of 8, got {tuple(pixel_values.shape[-2:])}")
        with torch.no_grad():
            scores = torch.cat([self.crop_scores(chunk) for chunk in pixel_values.split(RECONSTRUCTION_CHUNK)])
        if crops is not None:
            scores = aggregate_crop_logits(scores.view(-1, crops), self.config.crop_aggregation)
        return DetectorOutput(loss=None, scores=scores)

    def crop_scores(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``log(e2 / e1)`` of each crop ``[batch, 3, h, w]`` in [-1, 1] (subclasses score crops their own way)."""
        first, second = self.error_maps(pixel_values)
        first_error, second_error = (error.flatten(1).mean(1).clamp_min(_ERROR_FLOOR) for error in (first, second))
        return torch.log(second_error) - torch.log(first_error)

    def default_processor(self) -> "NativeCropImageProcessor":
        """Native crops of ``image_size`` (smaller images upscaled to it, and said so), pixels mapped to [-1, 1]."""
        from ..processing_crops import unit_range_crop_processor

        return unit_range_crop_processor(self.config.image_size, self.config.crops_per_side)

    @torch.no_grad()
    def ratio_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Per-pixel ``log(e2 / e1)`` of crops ``[batch, 3, h, w]`` in [-1, 1], each error smoothed over 9 x 9 pixels
        first: ``[batch, h, w]``."""
        first, second = self.error_maps(pixel_values)
        smooth = lambda error: F.avg_pool2d(error[:, None], 9, stride=1, padding=4, count_include_pad=False)[:, 0]
        return torch.log(smooth(second).clamp_min(_ERROR_FLOOR)) - torch.log(smooth(first).clamp_min(_ERROR_FLOOR))

    @torch.no_grad()
    def explain(self, image: "ImageInput", processor: Optional[Any] = None) -> Explanation:
        """Where the evidence for "fake" lies (bright: :meth:`evidence_map`, here ``log(e2 / e1)`` per pixel,
        smoothed), over every crop the score is made of.

        Args:
            image: a path, PIL image, array or bytes.
            processor: the image processor saved with the model (default: :meth:`default_processor`).

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` at the image's size (overlaps averaged, 0 where
            no crop was scored), ``method`` = :attr:`explanation_method`, no probability.

        Example:
            >>> model.explain("examples/photo_real_01.jpg").overlay.save("ratio.png")  # doctest: +SKIP
        """
        processor = processor or self.default_processor()
        heatmap, overlay = percentile_heatmap(*explained_crop_maps(self, image, processor, self.evidence_map))
        return Explanation(heatmap=heatmap, overlay=overlay, probability=None, method=self.explanation_method)

    def evidence_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The per-pixel map :meth:`explain` shows (here :meth:`ratio_map`; subclasses show their own score)."""
        return self.ratio_map(pixel_values)
