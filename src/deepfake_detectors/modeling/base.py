"""Shared pieces of every detector model: the output type and the pretrained base class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from ..calibration import ScoreCalibration
from ..configuration.base import DeepfakeDetectorConfig
from ..features.complexity import ComplexityAdjustment


@dataclass
class Explanation:
    """What a detector looked at in one image: the one type every detector's ``explain()`` returns.

    Args:
        heatmap: ``H x W`` float array in [0, 1] at the image's size (1 = most evidence for "fake", or most unusual).
        overlay: the picture to show (the heatmap blended on the image, or the map itself), RGB.
        probability: the model's own P(fake) for the image, ``None`` for one-class models (they have a score only).
        method: what the heatmap is: ``"Grad-CAM"``, ``"NPR evidence map"``, ``"ELA map"``, ``"reconstruction error"``.
        layer: where it comes from (a backbone layer, the tile size...), when that matters.
    """

    heatmap: np.ndarray
    overlay: Image.Image
    probability: Optional[float]
    method: str
    layer: Optional[str] = None


@dataclass
class DetectorOutput(ModelOutput):
    """Output of a detector's ``forward``.

    Args:
        loss: the training objective (only when computed; one-class models compute it on every call).
        scores: raw fake-ness score per image, ``[batch]``, higher = more likely fake.
        reconstruction: the reconstructed image, for autoencoders.
        embeddings: the embedding whose distance to a centre is the score, for Deep SVDD.
    """

    loss: Optional[torch.FloatTensor] = None
    scores: Optional[torch.FloatTensor] = None
    reconstruction: Optional[torch.FloatTensor] = None
    embeddings: Optional[torch.FloatTensor] = None


class DeepfakeDetectorPreTrainedModel(PreTrainedModel):
    """Base class of every detector: ``forward(pixel_values) -> DetectorOutput`` with raw ``scores``.

    Subclasses implement :meth:`forward`; :meth:`score`, the complexity adjustment and :meth:`calibration` are
    shared.
    """

    config_class = DeepfakeDetectorConfig
    main_input_name = "pixel_values"
    input_modalities = ("image",)

    #: Whether ``forward`` takes a shared ``feature_cache`` (members on hand-made features).
    accepts_feature_cache = False
    #: Whether ``forward`` takes ``[n, K, 3, h, w]`` native crops and combines them itself
    #: (``config.crop_aggregation``); other models score each crop as an image (see ``EnsembleScoring``).
    takes_crops = False

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """Load like any transformers model, building it in float32 unless a ``dtype`` is asked for.

        Members on hand-made features keep their fitted statistics as float64 buffers, so their saved config says
        ``float64``; transformers would switch the process-wide default dtype to float64 while it builds them, and
        two loads in parallel threads could leave that default behind. The float64 buffers are created with an
        explicit dtype, so building in float32 changes none of them.

        Example:
            >>> model = DeepfakeDetectorPreTrainedModel.from_pretrained("hub_repos/deepfake-npr-detector")  # doctest: +SKIP
        """
        kwargs.setdefault("dtype", torch.float32)
        return super().from_pretrained(*args, **kwargs)

    def set_reduced_precision(self, enabled: bool) -> bool:
        """Switch the model's heaviest part to bfloat16 where the model supports it (see
        :meth:`~deepfake_detectors.EnsembleDeepfakeDetector.set_precision`); this one does not.

        Args:
            enabled: ``True`` for bfloat16, ``False`` for float32.

        Returns:
            Whether the model supports reduced precision (here ``False``: it always runs in float32).
        """
        return False

    @torch.no_grad()
    def raw_score(self, pixel_values: torch.Tensor, **kwargs) -> torch.Tensor:
        """The score of ``forward`` in eval mode (:meth:`score_of_output`), before any complexity adjustment.

        Args:
            pixel_values: the batch as the member's image processor makes it.
            kwargs: passed to ``forward`` (e.g. ``feature_cache``).
        """
        was_training = self.training
        self.eval()
        try:
            return self.score_of_output(self(pixel_values=pixel_values, **kwargs)).float()
        finally:
            self.train(was_training)

    def score_of_output(self, output: Any) -> torch.Tensor:
        """Which part of ``forward``'s output is the raw score: its ``scores`` (a model may choose another).

        Args:
            output: what ``forward`` returned.
        """
        return output.scores

    @torch.no_grad()
    def score(
        self, pixel_values: torch.Tensor, complexity_bits: Optional[torch.Tensor] = None, **kwargs
    ) -> torch.Tensor:
        """Fake-ness scores (higher = more likely fake) for a preprocessed batch, in eval mode.

        These are the raw scores, corrected for input complexity when the config holds a
        ``complexity_adjustment`` (see :meth:`fit_complexity_adjustment`).

        Args:
            pixel_values: the batch as the member's image processor makes it.
            complexity_bits: the batch's bits per dimension, when the caller already has them (an ensemble
                computes them once per input size for all its members); otherwise computed from ``pixel_values``.
            kwargs: passed to ``forward`` (e.g. ``feature_cache``).

        Example:
            >>> scores = model.score(processor(["examples/real_01.jpg"])["pixel_values"])  # doctest: +SKIP
        """
        scores = self.raw_score(pixel_values, **kwargs)
        adjustment = self.config.get_complexity_adjustment()
        if adjustment is None:
            return scores
        bits = adjustment.bits(pixel_values) if complexity_bits is None else complexity_bits
        return adjustment.apply(scores, bits.to(scores.device)).float()

    @torch.no_grad()
    def fit_complexity_adjustment(
        self,
        real_batches: Iterable[torch.Tensor],
        input_mean: Sequence[float] = (0.5, 0.5, 0.5),
        input_std: Sequence[float] = (0.5, 0.5, 0.5),
        compressor: str = "png",
    ) -> ComplexityAdjustment:
        """Fit and store the input-complexity correction on held-out *real* images (no fake is needed).

        Call it after training and before calibrating: the calibration is then fitted on the adjusted scores.

        Args:
            real_batches: ``pixel_values`` batches of real images not used for training.
            input_mean: the image processor's ``image_mean`` (to recover the [0, 1] images).
            input_std: the image processor's ``image_std``.
            compressor: see :func:`~deepfake_detectors.features.complexity.compressed_bits_per_dimension`.

        Example:
            >>> model.fit_complexity_adjustment([processor(real_images)["pixel_values"]])  # doctest: +SKIP
        """
        measure = ComplexityAdjustment(slope=0.0, compressor=compressor, input_mean=input_mean, input_std=input_std)
        scores, bits = [], []
        for pixel_values in real_batches:
            pixel_values = pixel_values.to(self.device)
            scores.append(self.raw_score(pixel_values).cpu().numpy())
            bits.append(measure.bits(pixel_values).cpu().numpy())
        if not scores:
            raise ValueError("fit_complexity_adjustment needs at least one batch of real images")
        adjustment = ComplexityAdjustment.fit(
            np.concatenate(scores),
            np.concatenate(bits),
            compressor=compressor,
            input_mean=input_mean,
            input_std=input_std,
        )
        self.config.complexity_adjustment = adjustment.to_dict()
        return adjustment

    @property
    def calibration(self) -> Optional[ScoreCalibration]:
        """The stored real-score calibration, or ``None`` before :meth:`calibrate` has been called."""
        return self.config.get_calibration()

    def calibrate(self, real_scores: np.ndarray, fake_scores: Optional[np.ndarray] = None) -> ScoreCalibration:
        """Fit and store the calibration from validation scores (real only, or real and labelled fakes).

        Args:
            real_scores: raw scores of held-out real images.
            fake_scores: raw scores of labelled fake validation images, if available (adds ``optimal``).
        """
        calibration = ScoreCalibration.fit(real_scores, fake_scores)
        self.config.calibration = calibration.to_dict()
        return calibration


#: Whether the convolutional detectors run their convolutions in channels-last memory layout (see
#: :func:`convolution_layout`). Only a switch for measurements (``docs/experiments/inference_speed_switches.py``).
CHANNELS_LAST = True


def cpu_has_native_bfloat16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX-512 BF16 or AMX); elsewhere bfloat16 is emulated and
    slower than float32 (see :meth:`~deepfake_detectors.EnsembleDeepfakeDetector.set_precision`).

    Example:
        >>> isinstance(cpu_has_native_bfloat16(), bool)
        True
    """
    check = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


def convolution_layout(images: torch.Tensor) -> torch.Tensor:
    """``images`` (``[batch, channels, H, W]``) in channels-last memory layout, unchanged in value.

    oneDNN's CPU convolutions run fastest in that layout (measured in ``docs/experiments/inference_speed_switches.py``
    and its log), and each convolution keeps the layout of its input, so converting a network's input is enough.
    The outputs agree with the default layout to float rounding. Only where no gradient is recorded (scoring,
    under ``torch.no_grad`` or ``torch.inference_mode``): a training step or a Grad-CAM pass keeps the default
    layout, because oneDNN's channels-last backward of small convolutions with batch norm corrupts memory on some
    CPUs (torch 2.14.1 on an AMD EPYC: "double free or corruption" in ``tests/test_npr.py``'s training test).

    Args:
        images: a 4-D batch; other tensors are returned as they are.

    Example:
        >>> with torch.no_grad():
        ...     convolution_layout(torch.zeros(2, 3, 8, 8)).is_contiguous(memory_format=torch.channels_last)
        True
    """
    if CHANNELS_LAST and images.ndim == 4 and not torch.is_grad_enabled():
        return images.contiguous(memory_format=torch.channels_last)
    return images


#: Fold batch norms into their convolutions at inference (:func:`convolve_and_normalise`); off only to measure it.
FOLD_BATCH_NORM = True


def convolve_and_normalise(
    convolution: torch.nn.Conv2d, norm: torch.nn.BatchNorm2d, hidden: torch.Tensor
) -> torch.Tensor:
    """``norm(convolution(hidden))``; in eval mode as one convolution with the batch norm folded into its weights.

    An eval-mode batch norm is a per-channel scale and shift, so it can be folded into the convolution before it
    (``torch.nn.utils.fusion.fuse_conv_bn_weights``, recomputed on each call: it costs far less than the pass
    over the activations it saves). The result agrees with the two layers to float rounding; the module's
    parameters and buffers, and so its saved weights, are unchanged. Training mode runs the two layers as they are.

    Args:
        convolution: the convolution.
        norm: the batch norm after it.
        hidden: the convolution's input.

    Example:
        >>> convolution, norm = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4).eval()
        >>> x = torch.rand(1, 3, 8, 8)
        >>> bool(torch.allclose(convolve_and_normalise(convolution, norm, x), norm(convolution(x)), atol=1e-6))
        True
    """
    if norm.training or not FOLD_BATCH_NORM or norm.running_mean is None or convolution.padding_mode != "zeros":
        return norm(convolution(hidden))
    from torch.nn.utils.fusion import fuse_conv_bn_weights

    weight, bias = fuse_conv_bn_weights(convolution.weight, convolution.bias, norm.running_mean, norm.running_var,
                                        norm.eps, norm.weight, norm.bias)
    return torch.nn.functional.conv2d(hidden, weight, bias, convolution.stride, convolution.padding,
                                      convolution.dilation, convolution.groups)


def crop_map_canvas(image: Image.Image, processor: Any, crop_maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-crop maps ``[K, h, w]`` placed where a native-crop processor cut them from ``image``.

    Args:
        image: the decoded image (upscaled here first when the processor upscales small images, as when scoring).
        processor: a :class:`~deepfake_detectors.NativeCropImageProcessor`.
        crop_maps: one map per crop, in the processor's crop order.

    Returns:
        ``(canvas, count)`` at the (possibly upscaled) image's size: the maps averaged where crops overlap (0 where
        no crop was scored), and how many crops cover each pixel.

    Example:
        >>> canvas, count = crop_map_canvas(image, processor, maps)  # doctest: +SKIP
    """
    from ..processing_crops import upscale_to_crop

    if processor.upscale_small:
        image = upscale_to_crop(image, processor.crop_size)
    width, height = image.size
    total, count = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    for (left, top, right, bottom), crop_map in zip(processor.crop_boxes(width, height), crop_maps):
        total[top:bottom, left:right] += crop_map
        count[top:bottom, left:right] += 1
    return total / np.maximum(count, 1), count


def explained_crop_maps(
    model: torch.nn.Module, image: Any, processor: Any, crop_map: Callable[[torch.Tensor], torch.Tensor]
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``crop_map`` over the native crops of one image in eval mode and place the maps on the image.

    Args:
        model: the detector (its training mode is restored afterwards).
        image: a path, PIL image, array or bytes.
        processor: a :class:`~deepfake_detectors.NativeCropImageProcessor`.
        crop_map: maps crops ``[K, 3, h, w]`` to per-pixel maps ``[K, h, w]``.

    Returns:
        ``(canvas, count)`` as :func:`crop_map_canvas` gives them.

    Example:
        >>> canvas, count = explained_crop_maps(model, "photo.jpg", processor, model.surprise_map)  # doctest: +SKIP
    """
    from ..processing import load_image

    was_training = model.training
    model.eval()
    try:
        loaded = load_image(image)
        crops = processor([loaded])["pixel_values"][0].to(next(model.parameters()).device)
        with torch.no_grad():
            maps = crop_map(crops).float().cpu().numpy()
    finally:
        model.train(was_training)
    return crop_map_canvas(loaded, processor, maps)


def percentile_heatmap(canvas: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, Image.Image]:
    """A [0, 1] heatmap of a crop-map canvas, scaled between its 1st and 99th percentiles over the scored pixels (0
    where no crop was scored), and its colour overlay.

    Args:
        canvas: the map at the image's size.
        count: how many crops cover each pixel (0: not scored).

    Returns:
        ``(heatmap, overlay)``.

    Example:
        >>> heatmap, overlay = percentile_heatmap(*explained_crop_maps(model, image, processor, fn))  # doctest: +SKIP
    """
    from matplotlib import colormaps

    scored = count > 0
    low, high = np.percentile(canvas[scored], [1, 99]) if scored.any() else (0.0, 1.0)
    heatmap = np.clip((canvas - low) / max(high - low, 1e-6), 0, 1).astype(np.float32) * scored
    return heatmap, Image.fromarray((colormaps["magma"](heatmap)[..., :3] * 255).astype(np.uint8))


def aggregate_crop_logits(crop_logits: torch.Tensor, how: str = "mean_logit") -> torch.Tensor:
    """Combine ``[batch, crops]`` fake logits of native-resolution crops into one logit per image.

    Args:
        crop_logits: the fake logit of every crop of every image.
        how: ``"mean_logit"``, ``"max_logit"`` or ``"top2_mean_logit"`` (``config.crop_aggregation``).

    Example:
        >>> aggregate_crop_logits(torch.tensor([[0.0, 2.0, 4.0]]), "top2_mean_logit")
        tensor([3.])
    """
    if how == "max_logit":
        return crop_logits.max(dim=1).values
    if how == "top2_mean_logit":
        return crop_logits.topk(min(2, crop_logits.shape[1]), dim=1).values.mean(dim=1)
    return crop_logits.mean(dim=1)


@torch.no_grad()
def init_cnn_classifier_weights(module: torch.nn.Module) -> None:
    """The initialisation of our small CNN classifiers (ELA + CNN, NPR): Kaiming convolutions (fan out), a
    near-zero linear head, batch norms reset. Call from ``_init_weights``."""
    from torch import nn
    from transformers import initialization as init

    if isinstance(module, nn.Conv2d):
        init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(module, nn.Linear):
        init.normal_(module.weight, std=0.01)
        init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        reset_batch_norm(module)


@torch.no_grad()
def reset_batch_norm(module: torch.nn.BatchNorm2d) -> None:
    """A batch norm back to its start: unit scale, zero shift, running mean 0 and variance 1, no batches counted.

    Args:
        module: the batch norm (call from ``_init_weights``).

    Example:
        >>> norm = torch.nn.BatchNorm2d(4)
        >>> reset_batch_norm(norm)
        >>> float(norm.running_var.mean())
        1.0
    """
    from transformers import initialization as init

    init.ones_(module.weight)
    init.zeros_(module.bias)
    init.zeros_(module.running_mean)
    init.ones_(module.running_var)
    if getattr(module, "num_batches_tracked", None) is not None:
        init.zeros_(module.num_batches_tracked)


class NoInitialStatisticsMixin:
    """For a deep one-class member that fixes no statistics before training (the autoencoder, the frequency VAE)."""

    def fit_initial_statistics(self, batches: Iterable[torch.Tensor]) -> "NoInitialStatisticsMixin":
        """The pre-training hook every deep one-class member has; this model fixes no statistics, so it reads nothing.

        Args:
            batches: an iterable of ``pixel_values`` batches of real training images (left unread).

        Returns:
            The model itself.
        """
        return self
