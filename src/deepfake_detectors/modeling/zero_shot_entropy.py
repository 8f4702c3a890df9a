"""Zero-shot entropy detector: how much more predictable an image is than a pixel model of real photos expects."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Optional

import torch
from torch import nn
from torch.nn import functional as F

from ..configuration.zero_shot_entropy import ZeroShotEntropyConfig
from .base import (
    DeepfakeDetectorPreTrainedModel,
    DetectorOutput,
    Explanation,
    NoInitialStatisticsMixin,
    aggregate_crop_logits,
    explained_crop_maps,
    percentile_heatmap,
)

if TYPE_CHECKING:
    from ..processing import ImageInput
    from ..processing_crops import NativeCropImageProcessor

#: Width of one of the 256 intensity bins on the [-1, 1] scale the predictors work in.
_HALF_BIN = 1.0 / 255.0


class BlockPixelPredictor(nn.Module):
    """Predicts the three other pixels of every 2 x 2 block from the top-left pixels around it.

    Input: the top-left pixels, ``[batch, 3, h, w]`` in [-1, 1]. Output: the mean and log-scale of a logistic
    distribution for each of the 3 positions x 3 channels, ``[batch, 9, h, w]`` each; the mean is an offset from
    the known top-left pixel.

    Args:
        hidden_size: channels of the convolutions.
        num_blocks: residual blocks (two 3 x 3 convolutions each).
    """

    def __init__(self, hidden_size: int, num_blocks: int) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, hidden_size, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.ReLU(),
                nn.Conv2d(hidden_size, hidden_size, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(hidden_size, hidden_size, 3, padding=1),
            )
            for _ in range(num_blocks)
        )
        self.head = nn.Conv2d(hidden_size, 18, 1)

    def forward(self, top_left: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.stem(top_left)
        for block in self.blocks:
            hidden = hidden + block(hidden)
        out = self.head(F.relu(hidden))
        return top_left.repeat(1, 3, 1, 1) + out[:, :9], out[:, 9:].clamp(-7.0, 3.0)


def split_blocks(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split integer-valued images ``[batch, 3, H, W]`` (H, W even) into the top-left pixel of every 2 x 2 block,
    scaled to [-1, 1], and the three others as integers ``[batch, 9, H/2, W/2]`` (right, below, diagonal)."""
    top_left = values[:, :, 0::2, 0::2]
    others = torch.cat([values[:, :, 0::2, 1::2], values[:, :, 1::2, 0::2], values[:, :, 1::2, 1::2]], dim=1)
    return top_left / 127.5 - 1.0, others


def discretized_logistic_log_prob(values: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Log-probability (nats) of integer intensities 0-255 under a logistic discretized to 256 bins (the end bins
    take the tails). Broadcasts.

    Args:
        values: integer-valued intensities.
        mean: the logistic's mean on the [-1, 1] scale.
        log_scale: its log-scale on that scale.
    """
    centred = values / 127.5 - 1.0 - mean
    inverse_scale = torch.exp(-log_scale)
    upper = torch.sigmoid(inverse_scale * (centred + _HALF_BIN))
    lower = torch.sigmoid(inverse_scale * (centred - _HALF_BIN))
    upper = torch.where(values > 254.5, torch.ones_like(upper), upper)
    lower = torch.where(values < 0.5, torch.zeros_like(lower), lower)
    return torch.log((upper - lower).clamp_min(1e-12))


#: Crops whose entropy is computed at once: the 256 bin probabilities of every position take 9.4 MB per 128 px
#: crop and tensor, so larger chunks leave the CPU caches and run slower per crop.
ENTROPY_CHUNK = 4


def discretized_logistic_entropy(mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the 256-bin discretized logistic at every position: the distribution of
    :func:`discretized_logistic_log_prob` over all 256 intensities, from the logistic's CDF at the 255 inner bin
    edges (one sigmoid per edge rather than two per bin).

    Args:
        mean: the logistic's mean on the [-1, 1] scale.
        log_scale: its log-scale on that scale (same shape).

    Example:
        >>> discretized_logistic_entropy(torch.zeros(1), torch.full((1,), -7.0)).item() < 0.1  # almost one bin
        True
    """
    edges = torch.arange(1, 256, device=mean.device, dtype=mean.dtype) / 127.5 - 1.0 - _HALF_BIN
    cdf = torch.sigmoid(torch.exp(-log_scale)[..., None] * (edges - mean[..., None]))
    ends = cdf.new_zeros(cdf.shape[:-1] + (1,))
    probability = torch.diff(cdf, prepend=ends, append=ends + 1.0).clamp_min(1e-12)
    return -(probability * probability.log()).sum(-1)


def next_level(values: torch.Tensor) -> torch.Tensor:
    """The half-resolution image: each 2 x 2 block's mean, rounded to an integer intensity."""
    return torch.round(F.avg_pool2d(values, 2))


class ZeroShotEntropyModel(NoInitialStatisticsMixin, DeepfakeDetectorPreTrainedModel):
    """A pixel model of real photographs; an image it codes more cheaply than it expects is scored as fake.

    ``forward`` returns the coding cost (bits per sub-pixel, summed over the levels) as the training loss and, per
    image, the surprise ``H - NLL`` of ``config.score_level`` as the fake-ness score (see
    :class:`~deepfake_detectors.ZeroShotEntropyConfig`). It is trained on real images only.

    Args:
        config: a :class:`ZeroShotEntropyConfig`.

    Example:
        >>> model = ZeroShotEntropyModel(ZeroShotEntropyConfig(image_size=16, hidden_size=8, num_blocks=1))
        >>> model.eval()(torch.zeros(2, 4, 3, 16, 16)).scores.shape
        torch.Size([2])
    """

    config_class = ZeroShotEntropyConfig
    takes_crops = True
    base_model_prefix = "entropy"
    #: How one-class training augments the real crops: no rescaling and no blur, which would teach the model that
    #: interpolated (up-sampled) pixels are real, the very trace it is there to notice; flips and JPEG stay.
    training_augmentation = {"resize_probability": 0.0, "blur_probability": 0.0}
    #: An image smaller than a crop is enlarged to it, and enlarged pixels are predictable, i.e. look generated to
    #: this model: the pipeline marks such images out of domain (``in_domain=False``, with the reason).
    judges_enlarged_images = False

    def __init__(self, config: ZeroShotEntropyConfig) -> None:
        super().__init__(config)
        self.levels = nn.ModuleList(
            BlockPixelPredictor(config.hidden_size, config.num_blocks) for _ in range(config.num_levels)
        )
        self.post_init()

    @staticmethod
    def intensities(pixel_values: torch.Tensor) -> torch.Tensor:
        """The 0-255 integer intensities of pixels the processor mapped to [-1, 1] (undoes its normalisation)."""
        return torch.round((pixel_values.float() + 1.0) * 127.5).clamp(0, 255)

    def coding_costs(
        self, values: torch.Tensor, level: int, entropy_positions: Optional[int] = None
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Per-position NLL and (optionally) model entropy of one pyramid level, in bits.

        Args:
            values: integer-valued images of that level, ``[batch, 3, H, W]``.
            level: which level's predictor to use.
            entropy_positions: ``None``: no entropy; ``0``: at every position; ``n``: at ``n`` positions drawn once
                per image size (the same for every image).

        Returns:
            The NLL ``[batch, 9, H/2, W/2]`` and the entropy: ``[batch, 9, H/2, W/2]`` (every position),
            ``[batch, 9, n]`` (sampled) or ``None``.
        """
        top_left, others = split_blocks(values)
        mean, log_scale = self.levels[level](top_left)
        nll = -discretized_logistic_log_prob(others, mean, log_scale) / math.log(2)
        if entropy_positions is None:
            return nll, None
        batch, channels, height, width = mean.shape
        if entropy_positions:
            generator = torch.Generator().manual_seed(height * 100_003 + width)
            index = torch.randperm(height * width, generator=generator)[:entropy_positions].to(mean.device)
            mean = mean.flatten(2)[..., index]
            log_scale = log_scale.flatten(2)[..., index]
        entropy = torch.cat([
            discretized_logistic_entropy(mean_chunk, scale_chunk)
            for mean_chunk, scale_chunk in zip(mean.split(ENTROPY_CHUNK), log_scale.split(ENTROPY_CHUNK))
        ]) / math.log(2)
        return nll, entropy

    def level_values(self, values: torch.Tensor) -> list[torch.Tensor]:
        """The image at each modelled resolution (native first)."""
        levels = [values]
        for _ in range(1, self.config.num_levels):
            levels.append(next_level(levels[-1]))
        return levels

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Code the batch; ``loss`` is the mean NLL (bits per sub-pixel, summed over levels), ``scores`` the
        surprise ``H - NLL`` of ``config.score_level`` (computed in eval mode only; ``None`` in training).

        Args:
            pixel_values: native crops ``[batch, crops, 3, image_size, image_size]`` in [-1, 1] (an image's score is
                its crops' surprises combined by ``config.crop_aggregation``), or single crops ``[batch, 3, h, w]``
                with h and w divisible by ``2 ** num_levels``.
            labels: ignored (trained on real images only); accepted for Trainer compatibility.
        """
        crops = pixel_values.shape[1] if pixel_values.dim() == 5 else None
        if crops is not None:
            pixel_values = pixel_values.flatten(0, 1)
        factor = 2**self.config.num_levels
        if pixel_values.shape[-1] % factor or pixel_values.shape[-2] % factor:
            raise ValueError(f"image sides must be divisible by {factor}, got {tuple(pixel_values.shape[-2:])}")
        loss, scores = 0.0, None
        for level, values in enumerate(self.level_values(self.intensities(pixel_values))):
            wants_entropy = not self.training and level == self.config.score_level
            nll, entropy = self.coding_costs(values, level, self.config.entropy_positions if wants_entropy else None)
            per_image_nll = nll.flatten(1).mean(1)
            loss = loss + per_image_nll.mean()
            if entropy is not None:
                scores = entropy.flatten(1).mean(1) - per_image_nll
        if scores is not None and crops is not None:
            scores = aggregate_crop_logits(scores.view(-1, crops), self.config.crop_aggregation)
        return DetectorOutput(loss=loss, scores=None if scores is None else scores.detach())

    def default_processor(self) -> "NativeCropImageProcessor":
        """Native crops of ``image_size`` (smaller images upscaled to it, and said so), pixels mapped to [-1, 1]."""
        from ..processing_crops import unit_range_crop_processor

        return unit_range_crop_processor(self.config.image_size, self.config.crops_per_side)

    @torch.no_grad()
    def surprise_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Per-pixel surprise ``H - NLL`` of the score level (mean over the 9 predicted sub-pixels of each block),
        spread back over the pixels it describes: ``[batch, h, w]`` for crops ``[batch, 3, h, w]``."""
        values = self.level_values(self.intensities(pixel_values))[self.config.score_level]
        nll, entropy = self.coding_costs(values, self.config.score_level, entropy_positions=0)
        surprise = (entropy - nll).mean(1, keepdim=True)
        scale = 2 ** (self.config.score_level + 1)
        return F.interpolate(surprise, scale_factor=scale, mode="nearest")[:, 0]

    @torch.no_grad()
    def explain(self, image: "ImageInput", processor: Optional[Any] = None) -> Explanation:
        """Where the image is more predictable than a real photograph (bright = coded more cheaply than the model
        of real photos expects: evidence for "fake"), over every crop the score is made of.

        Args:
            image: a path, PIL image, array or bytes.
            processor: the image processor saved with the model (default: :meth:`default_processor`).

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` at the image's size (upscaled first when the
            processor does; overlaps averaged, 0 where no crop was scored), ``method="coding surprise"``, no
            probability (a one-class model has a score, not a P(fake)).

        Example:
            >>> model.explain("examples/photo_real_01.jpg").overlay.save("surprise.png")  # doctest: +SKIP
        """
        processor = processor or self.default_processor()
        surprise, count = explained_crop_maps(self, image, processor, self.surprise_map)
        smoothed = F.avg_pool2d(torch.from_numpy(surprise)[None, None], 9, stride=1, padding=4, count_include_pad=False)
        heatmap, overlay = percentile_heatmap(smoothed[0, 0].numpy(), count)
        return Explanation(heatmap=heatmap, overlay=overlay, probability=None, method="coding surprise")
