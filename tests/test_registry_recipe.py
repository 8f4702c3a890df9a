"""The recipe of docs/ARCHITECTURE.md, proved: a detector defined here (its configuration, its model, one registry
entry) is registered, trained, calibrated, saved, loaded and scored through every entry point: the Auto classes,
the one-class training library, ``EnsembleDeepfakeDetector``, the CLI, the Space and the benchmark."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from transformers import AutoConfig, AutoModel

from conftest import REPO_ROOT
from deepfake_detectors import EnsembleDeepfakeDetector
from deepfake_detectors.configuration.feature_base import FeatureDetectorConfig
from deepfake_detectors.modeling.feature_base import MahalanobisDetectorModel
from deepfake_detectors.registry import REGISTRY, DetectorSpec, OneClassRecipe, detector_spec, register_detector


# ---------------------------------------------------------------- 1. its configuration file
class BrightnessMomentsConfig(FeatureDetectorConfig):
    """A test detector: Mahalanobis distance of colour moments from those of real images."""

    model_type = "deepfake-test-brightness-moments"

    def __init__(self, feature_names=("colour_moments",), **kwargs) -> None:
        super().__init__(feature_names=feature_names, **kwargs)


# ---------------------------------------------------------------- 2. its modeling file
class BrightnessMomentsModel(MahalanobisDetectorModel):
    """Squared Mahalanobis distance of colour moments (fitted buffers, safetensors)."""

    config_class = BrightnessMomentsConfig
    base_model_prefix = "brightness_moments"


# ---------------------------------------------------------------- 3. one registry entry
SPEC = DetectorSpec(
    "brightness_moments",
    BrightnessMomentsConfig,
    BrightnessMomentsModel,
    family="one-class-features",
    description="A test detector: colour moments far from those of bright real images.",
    one_class_recipe=OneClassRecipe(),
)


def _image(rng: np.random.Generator, bright: bool) -> Image.Image:
    """Real images here are bright and smooth; fakes dark and noisy: easy for colour moments to tell apart."""
    base = 190 if bright else 70
    pixels = base + rng.normal(0, 8 if bright else 40, size=(40, 48, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def registered():
    spec = register_detector(SPEC)
    yield spec
    REGISTRY.pop(spec.model_type, None)  # other tests see the package's own registry


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A folder of three real and three fake images (``real_<i>.png``, ``fake_<i>.png``)."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(2)
    for index in range(3):
        _image(rng, bright=True).save(folder / f"real_{index}.png")
        _image(rng, bright=False).save(folder / f"fake_{index}.png")
    return folder


@pytest.fixture(scope="module")
def repo(registered, tmp_path_factory) -> Path:
    """Trained by the one-class training library on real images only, calibrated on validation, saved."""
    from deepfake_detectors.training.one_class import fit_feature_members

    rng = np.random.default_rng(0)
    train = [_image(rng, bright=True) for _ in range(60)]
    members, _, _ = fit_feature_members(train, [registered.name], batch_size=16)
    detector = EnsembleDeepfakeDetector.from_members(members)
    real_validation = [_image(rng, bright=True) for _ in range(30)]
    fake_validation = [_image(rng, bright=False) for _ in range(30)]
    detector.calibrate(real_validation, fake_validation)
    folder = tmp_path_factory.mktemp("brightness-moments-repo")
    detector.save_pretrained(folder)
    return folder


def test_the_registry_knows_it_and_refuses_a_clash(registered) -> None:
    assert detector_spec("deepfake-test-brightness-moments") is registered
    assert detector_spec("brightness_moments") is registered
    assert AutoConfig.for_model("deepfake-test-brightness-moments").__class__ is BrightnessMomentsConfig
    clash = DetectorSpec("brightness_moments", BrightnessMomentsConfig, MahalanobisDetectorModel,
                         family="one-class-features")
    with pytest.raises(ValueError, match="clashes"):
        register_detector(clash)
    with pytest.raises(KeyError, match="registered"):
        detector_spec("no-such-detector")
    with pytest.raises(ValueError, match="family"):
        DetectorSpec("odd", BrightnessMomentsConfig, BrightnessMomentsModel, family="semi-supervised")


def test_every_built_in_detector_is_registered_once_with_the_auto_classes() -> None:
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING

    from deepfake_detectors.registry import BUILT_IN_DETECTORS

    assert len({spec.name for spec in BUILT_IN_DETECTORS}) == len(BUILT_IN_DETECTORS) == 17
    for spec in BUILT_IN_DETECTORS:
        assert REGISTRY[spec.model_type] is spec
        assert AutoConfig.for_model(spec.model_type).__class__ is spec.config_class
        config = spec.config_class()
        assert type(AutoModel.from_config(config)) is spec.model_class
        assert (config.__class__ in MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING) == spec.image_classifier


def test_it_is_saved_and_loaded_through_the_auto_classes_and_the_pipeline(repo: Path) -> None:
    member = repo / "members" / "brightness_moments"
    assert (member / "model.safetensors").is_file() and (repo / "thresholds_calibrated.json").is_file()
    model = AutoModel.from_pretrained(member)
    assert isinstance(model, BrightnessMomentsModel)
    detector = EnsembleDeepfakeDetector.from_pretrained(repo)
    single = EnsembleDeepfakeDetector.from_pretrained(member)  # a member folder is a single-detector repo
    assert list(single.members) == ["brightness_moments"]
    rng = np.random.default_rng(1)
    real = detector.predict([_image(rng, bright=True) for _ in range(10)])
    fake = detector.predict([_image(rng, bright=False) for _ in range(10)])
    assert sum(result.is_fake for result in fake) >= 9 and sum(result.is_fake for result in real) <= 2


def test_the_cli_scores_a_folder_with_it(repo: Path, images: Path, tmp_path: Path) -> None:
    from deepfake_detectors.cli import main

    output = tmp_path / "results.jsonl"
    assert main(["detect", str(images), "--model", str(repo), "--output", str(output), "--no-progress"]) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    verdicts = {Path(row["source"]).name: row["label"] for row in rows}
    assert verdicts == {f"{kind}_{index}.png": kind for kind in ("real", "fake") for index in range(3)}


def test_the_space_offers_it_and_describes_it(repo: Path, images: Path, monkeypatch) -> None:
    pytest.importorskip("gradio")
    monkeypatch.setenv("DEEPFAKE_DETECTORS_MODELS", f"Brightness moments={repo}")
    spec = importlib.util.spec_from_file_location("space_app_with_test_detector", REPO_ROOT / "space" / "app.py")
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app
    try:
        spec.loader.exec_module(app)
        assert app.SOURCES["Brightness moments"] == str(repo)
        assert SPEC.description in app.about_markdown()
        payload = app.predict_json(str(images / "fake_0.png"), "Brightness moments", "balanced", None)
        assert payload["label"] == "fake" and "brightness_moments" in payload["member_scores"]
    finally:
        sys.modules.pop(spec.name, None)


def test_the_benchmark_times_it(repo: Path, images: Path) -> None:
    from deepfake_detectors.evaluation.benchmark import throughput_rows

    paths = [str(path) for path in sorted(images.glob("*.png"))]
    rows = throughput_rows(repo, paths, batch_size=4, repeats=1)
    assert len(rows) == 1 and rows[0].startswith(f"| **{repo.name}** | 4 | **")  # one member: one row
    images_per_second = float(rows[0].split("|")[3].strip(" *"))
    assert images_per_second > 0
    assert json.loads((repo / "config.json").read_text())["members"][0]["name"] == "brightness_moments"


def test_every_supervised_detector_declares_its_recipes_and_their_scripts_use_them() -> None:
    from conftest import load_script

    from deepfake_detectors.registry import detectors
    from deepfake_detectors.training import supervised_recipes

    recipes = [recipe for spec in detectors("supervised") for recipe in spec.supervised_recipes]
    assert {spec.name for spec in detectors("supervised")} == {"ela_cnn", "efficientnet", "npr"}
    assert all(spec.supervised_recipes for spec in detectors("supervised"))
    for recipe in recipes:
        assert callable(getattr(supervised_recipes, recipe.function))
        script = load_script(Path(recipe.script).stem)
        assert getattr(script, recipe.function) is getattr(supervised_recipes, recipe.function)  # main runs it
        parsed = vars(script.parse_args(["--output-dir", "runs/x"]))
        assert {key: parsed[key] for key in recipe.optimisation} == dict(recipe.optimisation), recipe.script
    with pytest.raises(KeyError, match="no supervised recipe"):
        detector_spec("efficientnet").supervised_recipe()  # two recipes (CIFAKE, photos): the name is needed
