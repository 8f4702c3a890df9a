"""Tests of safe image loading, file discovery and the image processor (``deepfake_detectors.processing``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from deepfake_detectors import processing
from deepfake_detectors.processing import (
    DeepfakeImageProcessor,
    ImageLoadError,
    iter_image_files,
    load_image,
)

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _pixel(image: Image.Image, xy: tuple[int, int] = (0, 0)) -> tuple[int, ...]:
    return tuple(int(v) for v in image.getpixel(xy))


def _assert_close(actual, expected, tolerance: int = 0) -> None:
    assert len(actual) == len(expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected)), (actual, expected)


# --------------------------------------------------------------------------------------------------------------
# load_image: input kinds
# --------------------------------------------------------------------------------------------------------------


def test_load_image_from_path(tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    Image.new("RGB", (7, 5), RED).save(path)
    for source in (path, str(path)):
        image = load_image(source)
        assert image.mode == "RGB"
        assert image.size == (7, 5)
        assert _pixel(image) == RED


def test_load_image_from_bytes() -> None:
    image = load_image(_encode(Image.new("RGB", (6, 4), GREEN), "PNG"))
    assert image.mode == "RGB"
    assert image.size == (6, 4)
    assert _pixel(image, (5, 3)) == GREEN


def test_load_image_from_pil_image() -> None:
    source = Image.new("RGB", (3, 2), BLUE)
    image = load_image(source)
    assert image.mode == "RGB"
    assert image.size == (3, 2)
    assert _pixel(image) == BLUE


def test_load_image_from_uint8_hwc_array() -> None:
    array = np.zeros((4, 6, 3), dtype=np.uint8)
    array[:, :3] = RED
    array[:, 3:] = BLUE
    array[1, 2] = (10, 20, 30)
    image = load_image(array)
    assert image.mode == "RGB"
    assert image.size == (6, 4)  # PIL size is (width, height)
    assert _pixel(image, (0, 0)) == RED
    assert _pixel(image, (5, 3)) == BLUE
    assert _pixel(image, (2, 1)) == (10, 20, 30)
    np.testing.assert_array_equal(np.asarray(image), array)


def test_load_image_from_float_chw_tensor() -> None:
    tensor = torch.zeros(3, 5, 7)
    tensor[0] = 1.0  # red channel full
    tensor[2] = 0.5  # blue channel half
    tensor[1, 2, 3] = 1.0  # one pixel with green on
    image = load_image(tensor)
    assert image.mode == "RGB"
    assert image.size == (7, 5)  # CHW -> width 7, height 5
    red, green, blue = _pixel(image, (0, 0))
    assert (red, green) == (255, 0)
    assert abs(blue - 128) <= 1
    assert _pixel(image, (3, 2))[:2] == (255, 255)


# --------------------------------------------------------------------------------------------------------------
# load_image: modes and formats
# --------------------------------------------------------------------------------------------------------------


def test_rgba_alpha_is_composited_on_white() -> None:
    source = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
    source.putpixel((1, 1), (0, 0, 255, 0))  # fully transparent: must become white, not blue or black
    source.putpixel((2, 2), (0, 0, 0, 128))  # half transparent black: mid grey
    for given in (source, _encode(source, "PNG")):
        image = load_image(given)
        assert image.mode == "RGB"
        assert _pixel(image, (0, 0)) == RED
        assert _pixel(image, (1, 1)) == WHITE
        grey = _pixel(image, (2, 2))
        assert grey[0] == grey[1] == grey[2]
        assert 120 <= grey[0] <= 135


def test_palette_with_transparency_is_composited_on_white() -> None:
    source = Image.new("P", (4, 4), 1)
    palette = [0, 0, 0] * 256
    palette[0:3] = [0, 255, 0]  # index 0: green, but transparent
    palette[3:6] = [255, 0, 0]  # index 1: red, opaque
    source.putpalette(palette)
    source.putpixel((0, 0), 0)
    source.info["transparency"] = 0
    for given in (source, _encode(source, "PNG", transparency=0)):
        image = load_image(given)
        assert image.mode == "RGB"
        assert _pixel(image, (0, 0)) == WHITE
        assert _pixel(image, (3, 3)) == RED


def test_greyscale_l_becomes_rgb() -> None:
    image = load_image(Image.new("L", (5, 3), 77))
    assert image.mode == "RGB"
    assert image.size == (5, 3)
    assert _pixel(image) == (77, 77, 77)


def test_16_bit_greyscale_is_rescaled_to_8_bit() -> None:
    array = np.full((2, 3), 1000, dtype=np.uint16)  # minimum 1000, not 0: the range is stretched
    array[1, 2] = 65535
    array[0, 1] = 33267  # (1000 + 65535) / 2 -> middle of the range
    source = Image.fromarray(array)
    assert source.mode.startswith("I;16")
    for given in (source, _encode(source, "PNG")):
        image = load_image(given)
        assert image.mode == "RGB"
        assert image.size == (3, 2)
        assert _pixel(image, (0, 0)) == (0, 0, 0)  # minimum -> black
        assert _pixel(image, (2, 1)) == WHITE  # maximum -> white (not clipped at 255 of 65535)
        middle = _pixel(image, (1, 0))
        assert middle[0] == middle[1] == middle[2]
        assert abs(middle[0] - 127) <= 1


def test_cmyk_becomes_rgb() -> None:
    source = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    source.paste((0, 0, 0, 0), (0, 0, 4, 8))  # no ink: white
    image = load_image(source)
    assert image.mode == "RGB"
    assert _pixel(image, (0, 0)) == WHITE
    assert _pixel(image, (7, 7)) == RED
    # the same through a CMYK JPEG file (lossy, so with a tolerance)
    decoded = load_image(_encode(source, "JPEG", quality=95))
    assert decoded.mode == "RGB"
    _assert_close(_pixel(decoded, (0, 0)), WHITE, tolerance=12)
    _assert_close(_pixel(decoded, (7, 7)), RED, tolerance=12)


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (6, 6), colour) for colour in (RED, GREEN, BLUE)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    with Image.open(path) as check:
        assert check.is_animated and check.n_frames == 3

    assert _pixel(load_image(path)) == RED
    # A PIL image left on a later frame is still read from the first one.
    with Image.open(path) as opened:
        opened.seek(2)
        assert _pixel(opened.convert("RGB")) == BLUE
        assert _pixel(load_image(opened)) == RED


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    source = Image.new("RGB", (40, 20), RED)
    source.paste(BLUE, (0, 0, 10, 20))  # left quarter blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    path = tmp_path / "rotated.jpg"
    source.save(path, exif=exif, quality=95)
    with Image.open(path) as raw:
        assert raw.size == (40, 20)  # stored unrotated

    image = load_image(path)
    assert image.size == (20, 40)  # width and height swapped
    # rotating clockwise puts the left edge (blue) at the top
    _assert_close(_pixel(image, (10, 2)), BLUE, tolerance=40)
    _assert_close(_pixel(image, (10, 37)), RED, tolerance=40)


# --------------------------------------------------------------------------------------------------------------
# load_image: errors name the file
# --------------------------------------------------------------------------------------------------------------


def _assert_load_error(source, name: str) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as caught:
        load_image(source)
    assert name in str(caught.value)
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_missing_file_raises(tmp_path: Path) -> None:
    error = _assert_load_error(tmp_path / "does_not_exist.png", "does_not_exist.png")
    assert "no such file" in error.reason


def test_directory_raises(tmp_path: Path) -> None:
    folder = tmp_path / "a_folder"
    folder.mkdir()
    error = _assert_load_error(folder, "a_folder")
    assert "directory" in error.reason


def test_text_file_with_image_extension_raises(tmp_path: Path) -> None:
    path = tmp_path / "notes_not_image.jpg"
    path.write_text("this is not a JPEG\n" * 10)
    error = _assert_load_error(path, "notes_not_image.jpg")
    assert "not a recognised image" in error.reason


def test_truncated_jpeg_raises(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = _encode(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)), "JPEG", quality=90)
    path = tmp_path / "half_written.jpg"
    path.write_bytes(data[: len(data) // 2])
    load_image(data)  # the complete file is fine
    _assert_load_error(path, "half_written.jpg")


@pytest.mark.parametrize("pixels", [100, 150], ids=["over-twice-limit", "over-limit"])
def test_decompression_bomb_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pixels: int) -> None:
    path = tmp_path / "bomb.png"
    Image.new("RGB", (16, 16), RED).save(path)  # 256 pixels
    assert load_image(path).size == (16, 16)
    previous_pil_limit = Image.MAX_IMAGE_PIXELS

    monkeypatch.setattr(processing, "MAX_IMAGE_PIXELS", pixels)
    error = _assert_load_error(path, "bomb.png")
    assert "too large" in error.reason
    assert Image.MAX_IMAGE_PIXELS == previous_pil_limit  # PIL's global limit is restored

    monkeypatch.setattr(processing, "MAX_IMAGE_PIXELS", 256)
    assert load_image(path).size == (16, 16)  # at the limit: accepted


# --------------------------------------------------------------------------------------------------------------
# iter_image_files
# --------------------------------------------------------------------------------------------------------------


def _touch_image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2, 2), RED).save(path, format="PNG")
    return path


def test_iter_image_files_folder_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    root = tmp_path / "images"
    expected = [
        _touch_image(root / "a.png"),
        _touch_image(root / "b.JPG"),
        _touch_image(root / "sub" / "c.webp"),
        _touch_image(root / "sub" / "deeper" / "d.tiff"),
        _touch_image(root / "z.jpeg"),
    ]
    (root / "notes.txt").write_text("not an image")
    (root / "sub" / "data.csv").write_text("1,2")
    (root / "sub" / "noext").write_text("x")
    (root / "empty_dir.png").mkdir()  # a folder with an image-like name is not a file

    found = iter_image_files([root])
    assert found == sorted(str(p) for p in expected)
    assert all(isinstance(p, str) for p in found)


def test_iter_image_files_glob(tmp_path: Path) -> None:
    png_b = _touch_image(tmp_path / "b.png")
    png_a = _touch_image(tmp_path / "a.png")
    _touch_image(tmp_path / "c.jpg")
    _touch_image(tmp_path / "sub" / "d.png")
    assert iter_image_files([str(tmp_path / "*.png")]) == [str(png_a), str(png_b)]
    recursive = iter_image_files([str(tmp_path / "**" / "*.png")])
    assert recursive == sorted([str(png_a), str(png_b), str(tmp_path / "sub" / "d.png")])


def test_iter_image_files_keeps_named_files_even_missing(tmp_path: Path) -> None:
    present = _touch_image(tmp_path / "present.png")
    named_text = tmp_path / "wrong.txt"
    named_text.write_text("x")
    missing = tmp_path / "missing.jpg"
    found = iter_image_files([present, missing, named_text])
    assert found == [str(present), str(missing), str(named_text)]
    with pytest.raises(ImageLoadError, match="missing.jpg"):
        load_image(found[1])


# --------------------------------------------------------------------------------------------------------------
# DeepfakeImageProcessor
# --------------------------------------------------------------------------------------------------------------


def test_processor_output_shape_and_range() -> None:
    processor = DeepfakeImageProcessor(size=16)
    black = np.zeros((16, 16, 3), dtype=np.uint8)
    white = np.full((16, 16, 3), 255, dtype=np.uint8)
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)

    pixel_values = processor([black, white, noise])["pixel_values"]
    assert isinstance(pixel_values, torch.Tensor)
    assert pixel_values.shape == (3, 3, 16, 16)
    assert pixel_values.dtype == torch.float32
    assert torch.all(pixel_values[0] == -1.0)
    assert torch.all(pixel_values[1] == 1.0)
    assert pixel_values.min() >= -1.0 and pixel_values.max() <= 1.0
    assert pixel_values[2].min() < -0.5 and pixel_values[2].max() > 0.5  # noise spans the range

    single = processor(white)["pixel_values"]  # one image, not a list
    assert single.shape == (1, 3, 16, 16)


def test_processor_custom_mean_std() -> None:
    processor = DeepfakeImageProcessor(size=4, image_mean=[0.0, 0.5, 1.0], image_std=[1.0, 0.25, 2.0])
    white = np.full((4, 4, 3), 255, dtype=np.uint8)
    values = processor(white)["pixel_values"][0]
    torch.testing.assert_close(values[:, 0, 0], torch.tensor([1.0, 2.0, 0.0]))


def test_processor_resizes_non_square_large_image() -> None:
    array = np.zeros((120, 300, 3), dtype=np.uint8)  # height 120, width 300
    array[:, :150] = RED
    array[:, 150:] = BLUE
    processor = DeepfakeImageProcessor(size=32)
    unit = processor.to_unit_tensor(array)
    assert unit.shape == (3, 32, 32)
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    # left half stays red, right half stays blue: the image was resized, not cropped or transposed
    torch.testing.assert_close(unit[:, :, :14].mean(dim=(1, 2)), torch.tensor([1.0, 0.0, 0.0]), atol=1e-3, rtol=0)
    torch.testing.assert_close(unit[:, :, 18:].mean(dim=(1, 2)), torch.tensor([0.0, 0.0, 1.0]), atol=1e-3, rtol=0)
    pixel_values = processor(array)["pixel_values"]
    assert pixel_values.shape == (1, 3, 32, 32)
    torch.testing.assert_close(pixel_values[0], (unit - 0.5) / 0.5)


@pytest.mark.parametrize("resample", ["bilinear", "bicubic", "nearest"])
def test_processor_resample_modes(resample: str) -> None:
    processor = DeepfakeImageProcessor(size=8, resample=resample)
    rng = np.random.default_rng(2)
    values = processor(rng.integers(0, 256, (30, 20, 3), dtype=np.uint8))["pixel_values"]
    assert values.shape == (1, 3, 8, 8)
    assert values.min() >= -1.0 and values.max() <= 1.0


def test_processor_save_and_load_round_trip(tmp_path: Path) -> None:
    processor = DeepfakeImageProcessor(
        size=24, resample="bicubic", image_mean=[0.1, 0.2, 0.3], image_std=[0.4, 0.5, 0.6]
    )
    processor.save_pretrained(tmp_path)
    config_file = tmp_path / "preprocessor_config.json"
    assert config_file.is_file()
    stored = json.loads(config_file.read_text())
    assert stored["size"] == 24
    assert stored["resample"] == "bicubic"
    assert stored["image_mean"] == pytest.approx([0.1, 0.2, 0.3])

    loaded = DeepfakeImageProcessor.from_pretrained(tmp_path)
    assert isinstance(loaded, DeepfakeImageProcessor)
    assert loaded.size == 24
    assert loaded.resample == "bicubic"
    assert loaded.image_mean == pytest.approx([0.1, 0.2, 0.3])
    assert loaded.image_std == pytest.approx([0.4, 0.5, 0.6])
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    torch.testing.assert_close(loaded(image)["pixel_values"], processor(image)["pixel_values"])


def test_processor_rejects_bad_resample(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resample"):
        DeepfakeImageProcessor(resample="lanczos")
    # also when the bad value comes from a saved config
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "DeepfakeImageProcessor", "size": 8, "resample": "area"})
    )
    with pytest.raises(ValueError, match="resample"):
        DeepfakeImageProcessor.from_pretrained(tmp_path)


def test_processor_propagates_load_errors(tmp_path: Path) -> None:
    processor = DeepfakeImageProcessor(size=8)
    with pytest.raises(ImageLoadError, match="gone.png"):
        processor([np.zeros((8, 8, 3), dtype=np.uint8), tmp_path / "gone.png"])


def test_reduced_jpeg_decoding_only_when_asked(tmp_path) -> None:
    """min_size lets the JPEG decoder shrink by a power of two, other formats by an integer factor, never below it."""
    from PIL import Image

    from deepfake_detectors import load_image

    pixels = np.random.default_rng(0).integers(0, 256, (800, 1000, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "big.jpg", quality=90)
    Image.fromarray(pixels).save(tmp_path / "big.png")
    assert load_image(tmp_path / "big.jpg").size == (1000, 800)
    assert load_image(tmp_path / "big.jpg", min_size=64).size == (125, 100)
    assert load_image(tmp_path / "big.jpg", min_size=300).size == (500, 400)
    assert load_image(tmp_path / "big.png", min_size=64).size == (84, 67)  # reduced by 12 (rounding up)
    assert load_image(tmp_path / "big.png").size == (1000, 800)


def test_detectors_decode_only_what_they_use() -> None:
    from conftest import REPO_ROOT
    from deepfake_detectors import EnsembleDeepfakeDetector

    resizing = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn")
    assert resizing.decode_min_size == 2 * resizing.processors["ela_cnn"].size
    native = REPO_ROOT / "hub_repos" / "deepfake-npr-detector"
    if native.exists():
        assert EnsembleDeepfakeDetector.from_pretrained(native).decode_min_size is None
