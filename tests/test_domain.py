"""Domain awareness: the description of a detector's training images, its file, and ``in_domain`` on results."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, noisy_image, smooth_image
from deepfake_detectors import EnsembleDeepfakeDetector, load_image
from deepfake_detectors.domain import (
    DOMAIN_FEATURES,
    DomainDescription,
    image_statistics,
    jpeg_quality,
    noise_levels,
    spectral_slopes,
)

EXAMPLES = REPO_ROOT / "examples"


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_jpeg_quality_is_read_from_the_files_tables() -> None:
    picture = smooth_image(np.random.default_rng(0), size=64)
    for quality in (50, 75, 90):
        estimated = jpeg_quality(Image.open(io.BytesIO(_jpeg(picture, quality))).quantization)
        assert estimated == pytest.approx(quality / 100, abs=0.02)
    assert jpeg_quality(None) == 1.0
    loaded = load_image(_jpeg(picture, 75))
    assert loaded.info["jpeg_quality"] == pytest.approx(0.75, abs=0.02) and loaded.info["source_size"] == (64, 64)


def test_statistics_record_the_stored_size_even_when_decoded_smaller() -> None:
    big = smooth_image(np.random.default_rng(1), size=512)
    reduced = load_image(_jpeg(big, 90), min_size=64)  # JPEG draft: decoded at 1/4 of its size
    assert reduced.size[0] < 512 and reduced.info["source_size"] == (512, 512)
    statistics = image_statistics([reduced])
    assert statistics.shape == (1, len(DOMAIN_FEATURES))
    assert statistics[0, 0] == pytest.approx(np.log10(512 * 512 / 1e6))


def _fitted(rng: np.random.Generator, features=None) -> DomainDescription:
    small = [load_image(_jpeg(smooth_image(rng, size=32), 75)) for _ in range(120)]
    return DomainDescription.fit(image_statistics(small), "small smooth JPEGs", components=2, features=features)


def _full_plane_slope(luma: np.ndarray) -> float:
    """The spectral slope from the whole centred spectrum, written out plainly (the reference for the fast one)."""
    side = luma.shape[0]
    window = np.outer(np.hanning(side), np.hanning(side))
    power = np.abs(np.fft.fftshift(np.fft.fft2((luma - luma.mean()) * window))) ** 2
    y, x = np.indices((side, side))
    radius = np.hypot(y - side // 2, x - side // 2).astype(int).ravel()
    radial = np.bincount(radius, power.ravel()) / np.maximum(np.bincount(radius), 1)
    log_power = np.log(radial[1 : side // 2] + 1e-8)
    log_frequency = np.log(np.arange(1, side // 2))
    return float(np.polyfit(log_frequency, log_power, 1)[0])


@pytest.mark.parametrize("side", [64, 33])
def test_fast_statistics_equal_their_plain_definitions(side) -> None:
    rng = np.random.default_rng(side)
    lumas = rng.integers(0, 256, size=(3, side, side)).astype(np.uint8)
    lumas[1] = np.clip(np.cumsum(rng.normal(size=(side, side)), axis=1) * 8 + 128, 0, 255).astype(np.uint8)
    slopes = spectral_slopes(lumas)
    for luma, slope in zip(lumas.astype(np.float64), slopes):
        assert slope == pytest.approx(_full_plane_slope(luma), abs=1e-9)
        centre = luma[1:-1, 1:-1]
        laplacian = 4 * centre - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
        assert noise_levels(luma[None].astype(np.uint8))[0] == np.median(np.abs(laplacian))
    assert slopes[1] < slopes[0] - 0.5  # a smooth (integrated) image loses power with frequency; noise does not


def test_images_unlike_the_training_ones_are_flagged_with_a_reason(tmp_path) -> None:
    rng = np.random.default_rng(0)
    domain = _fitted(rng)
    alike = [load_image(_jpeg(smooth_image(rng, size=32), 75)) for _ in range(40)]
    unlike = [load_image(_jpeg(noisy_image(rng, size=300), 95)) for _ in range(5)]
    inside, notes = domain.check(image_statistics(alike + unlike))
    assert inside[:40].mean() >= 0.9  # about 1% of images like the training ones are flagged
    assert not inside[40:].any() and all(note.startswith("unlike the training images") for note in notes[40:])
    assert notes[:40].count(None) == int(inside[:40].sum())
    path = tmp_path / "domain.safetensors"
    domain.save(path)
    again = DomainDescription.load(path)
    np.testing.assert_array_equal(again.check(image_statistics(alike + unlike))[0], inside)
    assert again.fitted_on == "small smooth JPEGs" and again.n_images == 120 and again.command == ""
    domain.command = "python scripts/fit_domain.py repo --source data:train:120 --fitted-on 'small smooth JPEGs'"
    domain.save(path)
    assert DomainDescription.load(path).command == domain.command  # the card prints it


def test_the_card_prints_the_command_that_fitted_the_domain() -> None:
    from deepfake_detectors.cards import domain_section

    report = {"wild_test": 1.0, "wild_test_by_source": {"camera-jpegs": 1.0}, "cifake_test": 0.03,
              "command": "python scripts/domain_report.py repo"}
    command = "python scripts/fit_domain.py repo --source ../shared/data/cifake:train:3000 --fitted-on 'CIFAKE'"
    assert f"Fitted by `{command}`." in domain_section("fitted on 3000 CIFAKE", report, command)
    assert "as in the Reproduce section below" in domain_section("fitted on 3000 CIFAKE", report)


def test_a_subset_of_statistics_ignores_the_others() -> None:
    rng = np.random.default_rng(2)
    domain = _fitted(rng, features=["log_noise", "spectral_slope"])
    same_content_bigger = load_image(_jpeg(smooth_image(rng, size=32).resize((320, 320)), 75))
    assert domain.features == ("log_noise", "spectral_slope")
    assert "size" not in domain.summary()
    with pytest.raises(ValueError, match="unknown image statistics"):
        _fitted(rng, features=["colourfulness"])
    assert domain.check(image_statistics([same_content_bigger]))[0].shape == (1,)


def test_a_damaged_domain_file_is_refused(tmp_path) -> None:
    from safetensors.numpy import load_file, save_file

    path = tmp_path / "domain.safetensors"
    _fitted(np.random.default_rng(3)).save(path)
    arrays = load_file(str(path))
    arrays["limit"] = np.array([np.nan])
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        metadata = handle.metadata()
    save_file(arrays, str(path), metadata=metadata)
    with pytest.raises(ValueError, match="limit .*not finite"):
        DomainDescription.load(path)


def test_bundled_repos_mark_photos_out_of_domain_for_cifake_detectors_only() -> None:
    photo, small = EXAMPLES / "photo_real_01.jpg", EXAMPLES / "real_01.jpg"
    cifake_detector = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn")
    results = cifake_detector.predict([photo, small])
    assert [result.in_domain for result in results] == [False, True]
    assert "size" in results[0].domain_note and results[1].domain_note is None
    npr = EnsembleDeepfakeDetector.from_pretrained(REPO_ROOT / "hub_repos" / "deepfake-npr-detector")
    assert npr.predict(photo).in_domain is True
    row = results[0].to_dict()
    assert row["in_domain"] is False and row["domain_note"]


def test_every_bundled_repo_has_a_domain_and_states_it_in_its_card() -> None:
    for repo in sorted(p for p in (REPO_ROOT / "hub_repos").iterdir() if (p / "config.json").is_file()):
        assert EnsembleDeepfakeDetector.from_pretrained(repo).domain is not None, repo.name
        assert "## Domain: the images it knows" in (repo / "README.md").read_text(), repo.name


def test_evaluate_reports_the_out_of_domain_fraction_per_group() -> None:
    from deepfake_detectors.evaluation.evaluate import out_of_domain_fractions

    checks = [(True, None), (False, "size"), None, (False, "noise")]
    fractions = out_of_domain_fractions(checks, {"source": ["a", "b", "b", "a"]})
    assert fractions == {"out_of_domain": 2 / 3, "out_of_domain_by_source": {"a": 0.5, "b": 1.0}}
    assert out_of_domain_fractions([None, None], {}) == {}
