"""NPR detector: a small residual CNN on the neighbouring-pixel residual of native-resolution crops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers.modeling_outputs import ImageClassifierOutput

from ..configuration.npr import NprDetectorConfig
from ..processing import ImageInput, load_image
from ..processing_crops import tile_starts
from .base import (
    DeepfakeDetectorPreTrainedModel,
    Explanation,
    aggregate_crop_logits,
    convolution_layout,
    convolve_and_normalise,
    init_cnn_classifier_weights,
)
from .efficientnet import overlay_heatmap


@dataclass
class NprDetectorOutput(ImageClassifierOutput):
    """:class:`~transformers.modeling_outputs.ImageClassifierOutput` plus the detector score.

    Args:
        loss: binary cross-entropy of the image's fake logit, only when ``labels`` are given.
        logits: ``[batch, 2]`` class logits ``[0, z]`` (real, fake) from the image's fake logit ``z``.
        hidden_states: ``(crop_logits,)``, the fake logit of every crop ``[batch, crops]``, when asked for.
        attentions: always ``None``.
        scores: ``[batch]`` the fake logit ``z`` itself (higher = more likely fake). It is a logit, not a
            probability, so that the calibration's Platt scaling (a temperature and a bias) can make it one.
    """

    scores: Optional[torch.FloatTensor] = None


def neighbouring_pixel_residual(pixel_values: torch.Tensor) -> torch.Tensor:
    """The NPR of a batch: the image minus its 2x nearest-neighbour down-and-up-sampled copy.

    Each pixel becomes its difference from the top-left pixel of its 2 x 2 block, which is zero wherever an
    up-sampling layer copied one value into the block and large where a camera sensor recorded four.

    Args:
        pixel_values: ``[batch, channels, H, W]`` with even ``H`` and ``W``.

    Example:
        >>> image = torch.arange(16.0).view(1, 1, 4, 4)
        >>> neighbouring_pixel_residual(image)[0, 0, :2, :2]
        tensor([[0., 1.],
                [4., 5.]])
    """
    if pixel_values.shape[-1] % 2 or pixel_values.shape[-2] % 2:
        raise ValueError(f"NPR needs even height and width, got {tuple(pixel_values.shape[-2:])}")
    anchors = pixel_values[..., ::2, ::2]
    return pixel_values - anchors.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)


class ResidualBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm and a (projected when needed) skip connection."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.norm1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        out = F.relu(convolve_and_normalise(self.conv1, self.norm1, hidden))
        if isinstance(self.shortcut, nn.Sequential):
            shortcut = convolve_and_normalise(self.shortcut[0], self.shortcut[1], hidden)
        else:
            shortcut = hidden
        return F.relu(convolve_and_normalise(self.conv2, self.norm2, out) + shortcut)


class NprDetectorForImageClassification(DeepfakeDetectorPreTrainedModel):
    """Real / fake classifier on neighbouring-pixel residuals of native-resolution crops (NPR, Tan et al. 2024).

    Input: ``pixel_values`` from :class:`~deepfake_detectors.NativeCropImageProcessor`, ``[batch, crops, 3, h, w]``
    (or ``[batch, 3, h, w]`` for one crop per image) in [0, 1]. Every crop goes through the NPR residual
    (:func:`neighbouring_pixel_residual`), a full-resolution 3 x 3 stem and ``len(hidden_sizes)`` residual
    stages, global average pooling and one fake logit; the crops' logits are combined per image
    (``config.crop_aggregation``). The logit is exposed as the class logits ``[0, z]``, so it is a transformers
    image classifier: ``pipeline("image-classification", model=path)`` works.

    Args:
        config: an :class:`NprDetectorConfig`.

    Example:
        >>> model = NprDetectorForImageClassification(NprDetectorConfig(hidden_sizes=[8, 16]))
        >>> output = model(torch.rand(2, 4, 3, 32, 32), labels=torch.tensor([0, 1]))
        >>> output.logits.shape, output.scores.shape
        (torch.Size([2, 2]), torch.Size([2]))
    """

    config_class = NprDetectorConfig
    takes_crops = True
    base_model_prefix = "npr"

    def __init__(self, config: NprDetectorConfig) -> None:
        super().__init__(config)
        widths = config.hidden_sizes
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, in_channels = [], widths[0]
        for position, out_channels in enumerate(widths):
            stride = 2 if position < len(widths) - 1 else 1
            stages.append(ResidualBlock(in_channels, out_channels, stride))
            in_channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(in_channels, 1)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        init_cnn_classifier_weights(module)

    def crop_logits(self, crops: torch.Tensor) -> torch.Tensor:
        """The fake logit of each crop of a ``[n, 3, h, w]`` batch in [0, 1], ``[n]``."""
        residual = neighbouring_pixel_residual(crops) * self.config.residual_scale
        stem = F.relu(convolve_and_normalise(self.stem[0], self.stem[1], convolution_layout(residual)))
        features = self.stages(stem).mean(dim=(2, 3))
        return self.classifier(self.dropout(features)).squeeze(-1)

    def aggregate(self, crop_logits: torch.Tensor) -> torch.Tensor:
        """Combine ``[batch, crops]`` crop logits into one logit per image (``config.crop_aggregation``)."""
        return aggregate_crop_logits(crop_logits, self.config.crop_aggregation)

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
    ) -> NprDetectorOutput:
        """Classify a batch of images, each given as one or more crops.

        Args:
            pixel_values: ``[batch, crops, 3, h, w]`` or ``[batch, 3, h, w]`` in [0, 1], even ``h`` and ``w``.
            labels: ``[batch]`` class ids (real = 0, fake = 1); adds the binary cross-entropy ``loss``.
            output_hidden_states: also return every crop's logit.

        Returns:
            An :class:`NprDetectorOutput` with ``logits``, ``scores`` (the fake logit) and, with labels, ``loss``.
        """
        if pixel_values.ndim == 4:
            pixel_values = pixel_values.unsqueeze(1)
        if pixel_values.ndim != 5 or pixel_values.shape[2] != 3:
            raise ValueError(
                f"expected pixel_values of shape [batch, crops, 3, h, w] or [batch, 3, h, w], "
                f"got {tuple(pixel_values.shape)}"
            )
        batch, crops = pixel_values.shape[:2]
        crop_logits = self.crop_logits(pixel_values.flatten(0, 1)).view(batch, crops)
        fake_logit = self.aggregate(crop_logits)
        loss = None
        if labels is not None:
            target = labels.to(fake_logit.device).float().view(-1)
            loss = F.binary_cross_entropy_with_logits(fake_logit.float(), target)
        logits = torch.stack([torch.zeros_like(fake_logit), fake_logit], dim=-1)
        return NprDetectorOutput(
            loss=loss,
            logits=logits,
            hidden_states=(crop_logits,) if output_hidden_states else None,
            scores=fake_logit.detach().float(),
        )

    @torch.no_grad()
    def evidence_map(self, image: ImageInput, tile: Optional[int] = None, batch_size: int = 64) -> np.ndarray:
        """Where the evidence is: each pixel's fake logit, from native-resolution tiles covering the whole image.

        Tiles of ``tile`` pixels (the training crop size by default; a side shorter than a tile gives tiles as long
        as that side) sit on a grid from edge to edge, the last row and column flush with the far edges, at even
        offsets. Each tile is scored on its own; a pixel gets the mean logit of the tiles that cover it. Unlike the
        few crops behind the verdict, this covers every pixel.

        Args:
            image: a path, PIL image, array or bytes.
            tile: tile side in pixels (even); defaults to ``config.image_size``.
            batch_size: tiles per forward pass.

        Returns:
            ``[height, width]`` float32 array of fake logits (the image's size).

        Example:
            >>> model.evidence_map("examples/photo_fake_01.jpg").shape  # doctest: +SKIP
            (256, 256)
        """
        pixels = torch.from_numpy(np.array(load_image(image), dtype=np.uint8)).permute(2, 0, 1)
        height, width = pixels.shape[1:]
        side = int(tile or self.config.image_size)
        tile_h, tile_w = min(side, height - height % 2), min(side, width - width % 2)
        if tile_h < 2 or tile_w < 2:
            raise ValueError(f"image of {width}x{height} pixels is too small to score")
        boxes = [(top, left) for top in tile_starts(height, tile_h) for left in tile_starts(width, tile_w)]
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        try:
            logits = []
            for start in range(0, len(boxes), batch_size):
                chunk = boxes[start : start + batch_size]
                tiles = torch.stack([pixels[:, top : top + tile_h, left : left + tile_w] for top, left in chunk])
                logits.append(self.crop_logits(tiles.to(device).float().div_(255.0)).float().cpu())
        finally:
            self.train(was_training)
        total, count = torch.zeros(height, width, dtype=torch.float32), torch.zeros(height, width, dtype=torch.float32)
        for (top, left), logit in zip(boxes, torch.cat(logits)):
            total[top : top + tile_h, left : left + tile_w] += logit
            count[top : top + tile_h, left : left + tile_w] += 1
        return (total / count.clamp_(min=1)).numpy()

    def explain(self, image: ImageInput, tile: Optional[int] = None, alpha: float = 0.45) -> Explanation:
        """Evidence map of the whole image: each pixel's P(fake) from :meth:`evidence_map`, over the image.

        Args:
            image: a path, PIL image, array or bytes.
            tile: tile side in pixels; defaults to ``config.image_size``.
            alpha: opacity of the heatmap in the overlay.

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` (``method="NPR evidence map"``) whose ``heatmap`` is the
            uncalibrated ``sigmoid`` of :meth:`evidence_map` (1 = evidence for "fake"), ``probability`` the sigmoid
            of the mean logit (uncalibrated; the verdict's probability comes from the detector's
            calibration) and ``layer`` names the tiling.

        Example:
            >>> model.explain("examples/photo_fake_01.jpg").overlay.save("evidence.png")  # doctest: +SKIP
        """
        rgb = load_image(image)
        logits = self.evidence_map(rgb, tile=tile)
        heatmap = torch.sigmoid(torch.from_numpy(logits)).numpy()
        return Explanation(
            heatmap=heatmap.astype(np.float32),
            overlay=overlay_heatmap(rgb, heatmap, alpha=alpha),
            probability=float(torch.sigmoid(torch.tensor(float(logits.mean())))),
            method="NPR evidence map",
            layer=f"tiles of {int(tile or self.config.image_size)} px",
        )
