"""Error Level Analysis + CNN: a supervised real / fake image classifier on ELA maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch
from torch import nn
from transformers.modeling_outputs import ImageClassifierOutput

from ..configuration.ela_cnn import ElaCnnConfig
from ..processing import ImageInput, load_image
from ..processing_ela import ElaCropImageProcessor, ElaImageProcessor
from .base import DeepfakeDetectorPreTrainedModel, Explanation, aggregate_crop_logits, init_cnn_classifier_weights


@dataclass
class ElaCnnOutput(ImageClassifierOutput):
    """:class:`~transformers.modeling_outputs.ImageClassifierOutput` plus the detector score.

    Args:
        loss: cross-entropy, only when ``labels`` are given.
        logits: ``[batch, 2]`` classification logits (real, fake).
        hidden_states: the output of each stage, when ``output_hidden_states=True``.
        attentions: always ``None`` (no attention layers).
        scores: ``[batch]`` softmax probability of "fake" (higher = more likely fake), the raw detector score.
    """

    scores: Optional[torch.FloatTensor] = None


class ElaCnnForImageClassification(DeepfakeDetectorPreTrainedModel):
    """Compact CNN on Error Level Analysis maps (the usual ELA + CNN image-forensics recipe), trained with
    cross-entropy on real (0) and fake (1) images.

    Input: ``pixel_values`` from :class:`~deepfake_detectors.ElaImageProcessor` (6 channels: image + ELA map, or
    3: ELA map only). Each stage is (conv 3x3 - batch norm - ReLU) x 2 and a 2x2 max pool; then a global average
    pool, dropout and a linear layer give two logits. It is a transformers image classifier:
    ``pipeline("image-classification", model=path)`` returns ``[{"label": "fake", "score": p}, ...]``.

    Args:
        config: an :class:`ElaCnnConfig`.

    Example:
        >>> model = ElaCnnForImageClassification(ElaCnnConfig(hidden_sizes=[8, 16]))
        >>> output = model(torch.zeros(2, 6, 32, 32), labels=torch.tensor([0, 1]))
        >>> output.logits.shape, output.scores.shape
        (torch.Size([2, 2]), torch.Size([2]))
    """

    config_class = ElaCnnConfig
    takes_crops = True
    base_model_prefix = "ela_cnn"

    def __init__(self, config: ElaCnnConfig) -> None:
        super().__init__(config)
        in_channels = config.num_channels
        stages: list[nn.Module] = []
        for out_channels in config.hidden_sizes:
            stages.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2),
                )
            )
            in_channels = out_channels
        self.stages = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(in_channels, config.num_labels)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        init_cnn_classifier_weights(module)

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
    ) -> ElaCnnOutput:
        """Classify a batch.

        Args:
            pixel_values: ``[batch, num_channels, H, W]`` from :class:`~deepfake_detectors.ElaImageProcessor`, or
                ``[batch, crops, num_channels, h, w]`` from :class:`~deepfake_detectors.ElaCropImageProcessor`
                (the crops' fake logits combined by ``config.crop_aggregation``; ``logits`` are then
                ``[0, fake logit]``).
            labels: ``[batch]`` class ids (real = 0, fake = 1); adds the cross-entropy ``loss``.
            output_hidden_states: also return each stage's feature map.

        Returns:
            An :class:`ElaCnnOutput` with ``logits``, ``scores`` (P(fake)) and ``loss`` when labels are given.
        """
        crops = None
        if pixel_values.ndim == 5:
            crops = pixel_values.shape[1]
            pixel_values = pixel_values.flatten(0, 1)
        if pixel_values.ndim != 4 or pixel_values.shape[1] != self.config.num_channels:
            raise ValueError(
                f"expected {self.config.num_channels} input channels, got {pixel_values.shape[1]}; use the "
                "ElaImageProcessor saved with the model (include_image=True gives 6 channels, False gives 3)"
            )
        hidden = pixel_values
        hidden_states = []
        for stage in self.stages:
            hidden = stage(hidden)
            hidden_states.append(hidden)
        logits = self.classifier(self.dropout(self.pool(hidden).flatten(1)))
        if crops is not None:  # one fake logit per crop, combined per image
            crop_logits = (logits[:, 1] - logits[:, 0]).view(-1, crops)
            fake_logit = aggregate_crop_logits(crop_logits, getattr(self.config, "crop_aggregation", "mean_logit"))
            logits = torch.stack([torch.zeros_like(fake_logit), fake_logit], dim=-1)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels.to(logits.device).long().view(-1))
        return ElaCnnOutput(
            loss=loss,
            logits=logits,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            scores=logits.detach().float().softmax(dim=-1)[:, 1],
        )

    def default_processor(self) -> Union[ElaImageProcessor, ElaCropImageProcessor]:
        """The processor this config implies: resized input, or native crops when ``config.crops_per_side`` is set
        (the processor saved beside the model is the one to use; it also keeps ``ela_scale``)."""
        settings = dict(ela_quality=self.config.ela_quality, include_image=self.config.num_channels == 6)
        crops_per_side = getattr(self.config, "crops_per_side", None)
        if crops_per_side:
            return ElaCropImageProcessor(crop_size=self.config.image_size, crops_per_side=crops_per_side, **settings)
        return ElaImageProcessor(size=self.config.image_size, **settings)

    @torch.no_grad()
    def explain(
        self, image: ImageInput, processor: Union[ElaImageProcessor, ElaCropImageProcessor, None] = None
    ) -> Explanation:
        """The ELA map the model looks at (bright = high error level), with the model's P(fake).

        Args:
            image: a path, PIL image, array or bytes.
            processor: the processor saved with the model; by default one with this config's ``image_size`` and
                ``ela_quality`` (and the default ``ela_scale``).

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` with ``method="ELA map"``: ``overlay`` is the
            ELA map at the image's size (the full-resolution map for images larger than the model's input),
            ``heatmap`` its brightness in [0, 1].

        Example:
            >>> model.explain("examples/fake_01.jpg").overlay.save("ela.png")  # doctest: +SKIP
        """
        processor = processor or self.default_processor()
        rgb = load_image(image)
        if isinstance(processor, ElaCropImageProcessor):
            ela = processor.ela_map(rgb)
        else:
            ela = processor.ela_map(rgb, full_resolution=max(rgb.size) > processor.size)
        brightness = np.asarray(ela, dtype=np.float32).mean(axis=-1)
        heatmap = brightness / brightness.max() if brightness.max() > 0 else brightness
        was_training = self.training
        self.eval()
        try:
            pixel_values = processor([rgb])["pixel_values"].to(self.device)
            probability = float(self(pixel_values=pixel_values).scores[0])
        finally:
            self.train(was_training)
        return Explanation(heatmap=heatmap, overlay=ela, probability=probability, method="ELA map")
