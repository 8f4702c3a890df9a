"""Aligned training pairs: each real image and its reconstruction through an image autoencoder, as the fake.

The idea is Rajan et al. (ICLR 2025, "Aligned Datasets Improve Detection of Latent Diffusion-Generated Images"):
a latent diffusion model's images all pass through its autoencoder's decoder, so a real photo sent through the
encoder and decoder carries the decoder's traces and nothing else that differs. A detector trained on such pairs
cannot lean on content, style or subject; it has to learn the decoder's pixel-level fingerprint.

The autoencoder here is a tiny distilled one with the layout of the MIT-licensed ``madebyollin/taesd`` family
(8x down-sampling, three 2x nearest-neighbour up-sampling stages in the decoder). Its weights are not part of this
package: pass the ``*_encoder.pth`` / ``*_decoder.pth`` files (read with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Union

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..modeling.tiny_autoencoder import load_tiny_weights, tiny_decoder, tiny_encoder

if TYPE_CHECKING:
    import datasets


class TinyAutoencoder(nn.Module):
    """Encoder + decoder of a tiny distilled image autoencoder, loaded from its two weight files.

    Args:
        encoder_path: ``*_encoder.pth`` state dict.
        decoder_path: ``*_decoder.pth`` state dict.
        latent_channels: channels of the latent (32 for the FLUX.2 pair, 4 for SD 1.x).
        global_context: the FLUX.2 pair's extra global-context branch in the deepest blocks.

    Example:
        >>> autoencoder = TinyAutoencoder("taef2_encoder.pth", "taef2_decoder.pth")  # doctest: +SKIP
        >>> autoencoder.reconstruct(Image.open("photo.jpg").convert("RGB")).size  # doctest: +SKIP
    """

    def __init__(
        self,
        encoder_path: Union[str, Path],
        decoder_path: Union[str, Path],
        latent_channels: int = 32,
        global_context: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = tiny_encoder(latent_channels, global_context)
        self.decoder = tiny_decoder(latent_channels, global_context)
        load_tiny_weights(self.encoder, encoder_path)
        load_tiny_weights(self.decoder, decoder_path)
        self.eval()

    @torch.no_grad()
    def reconstruct(self, image: Image.Image) -> Image.Image:
        """Encode and decode an RGB image (cropped to a multiple of 8 pixels), returned as an 8-bit RGB image."""
        width, height = image.width - image.width % 8, image.height - image.height % 8
        pixels = torch.from_numpy(np.asarray(image.crop((0, 0, width, height)), dtype=np.uint8).copy())
        pixels = pixels.permute(2, 0, 1)[None].float().div_(255.0)
        decoded = self.decoder(self.encoder(pixels)).clamp_(0, 1)
        array = decoded[0].permute(1, 2, 0).mul_(255).round_().byte().numpy()
        return Image.fromarray(array)


def reconstructions(
    autoencoder: TinyAutoencoder, images: Iterable[Image.Image], jpeg_quality: int = 90
) -> Iterator[bytes]:
    """JPEG bytes of each image's reconstruction (4:4:4 chroma, like the real images it is paired with).

    Args:
        autoencoder: the :class:`TinyAutoencoder`.
        images: RGB images.
        jpeg_quality: quality of the JPEG the reconstruction is stored as.
    """
    for image in images:
        buffer = io.BytesIO()
        autoencoder.reconstruct(image).save(buffer, format="JPEG", quality=jpeg_quality, subsampling=0)
        yield buffer.getvalue()


def build_aligned_pairs(
    dataset: "datasets.Dataset",
    autoencoder: TinyAutoencoder,
    crop_size: int = 144,
    seed: int = 0,
    progress: bool = True,
) -> "datasets.Dataset":
    """Aligned pairs from the real images of a dataset: a native-resolution crop of each and its reconstruction.

    Each real image (label 0) gives one crop of ``crop_size`` pixels at a random offset on the 8-pixel grid (the
    whole image, trimmed to a multiple of 8, when smaller), stored losslessly as PNG with label 0, and its
    reconstruction through ``autoencoder``, stored as JPEG (quality 90, 4:4:4) with label 1. No fake image of the
    dataset is used.

    Args:
        dataset: rows with ``image`` and ``label`` (real = 0, fake = 1) columns; ``source`` is kept when present.
        autoencoder: the :class:`TinyAutoencoder` whose decoder traces the fakes carry.
        crop_size: crop side in pixels (a multiple of 8).
        seed: seed of the crop offsets.
        progress: show a progress bar.

    Returns:
        A dataset with ``image``, ``label``, ``source`` (``aligned:<source>``) and ``pair`` (the pair's index).
    """
    import datasets
    from tqdm.auto import tqdm

    from ..processing import load_image

    if crop_size % 8:
        raise ValueError(f"crop_size must be a multiple of 8, got {crop_size}")
    draw = np.random.default_rng(seed)
    sources = dataset["source"] if "source" in dataset.column_names else ["unknown"] * dataset.num_rows
    rows: dict[str, list] = {"image": [], "label": [], "source": [], "pair": []}
    real_rows = [index for index, label in enumerate(dataset["label"]) if int(label) == 0]
    for pair, index in enumerate(tqdm(real_rows, desc="aligned pairs", disable=not progress)):
        image = load_image(dataset[index]["image"])
        side_w, side_h = min(crop_size, image.width - image.width % 8), min(crop_size, image.height - image.height % 8)
        left = 8 * int(draw.integers(0, (image.width - side_w) // 8 + 1))
        top = 8 * int(draw.integers(0, (image.height - side_h) // 8 + 1))
        crop = image.crop((left, top, left + side_w, top + side_h))
        lossless = io.BytesIO()
        crop.save(lossless, format="PNG")
        for label, data in ((0, lossless.getvalue()), (1, next(reconstructions(autoencoder, [crop])))):
            rows["image"].append({"bytes": data, "path": None})
            rows["label"].append(label)
            rows["source"].append(f"aligned:{sources[index]}")
            rows["pair"].append(pair)
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=["real", "fake"]),
            "source": datasets.Value("string"),
            "pair": datasets.Value("int32"),
        }
    )
    return datasets.Dataset.from_dict(rows, features=features)
