"""IsolationForestConfig / IsolationForestModel (scikit-learn IsolationForest on frequency + spatial features)."""

from __future__ import annotations

import pytest
import torch

from conftest import REPO_ROOT
from deepfake_detectors import IsolationForestConfig, IsolationForestModel

# Registered before the import so that pytest rewrites the helper's asserts (detailed failure messages).
pytest.register_assert_rewrite("feature_member_checks")

from feature_member_checks import (  # noqa: E402
    check_config_defaults,
    check_config_json_round_trip,
    check_shared_feature_cache,
    check_sklearn_fit_scores,
    check_sklearn_save_and_load,
    check_sklearn_version_mismatch_warns,
    check_unfitted_model_refuses_to_score_or_save,
    fit_on_train,
    images,  # noqa: F401 - fixture
    saved,  # noqa: F401 - fixture
)


@pytest.fixture(scope="module")
def fitted(images) -> IsolationForestModel:
    # fewer trees: faster save / load
    return fit_on_train(IsolationForestModel(IsolationForestConfig(n_estimators=50)), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_config_defaults(
        IsolationForestConfig,
        ["spectrum_radial", "spectrum_bands", "sobel_stats", "patch_stats", "jpeg_dct_stats"],
        251,
        defaults=dict(n_estimators=200, max_samples="auto"),
        accepted=[dict(max_samples=0.5), dict(max_samples=64)],
        invalid=[dict(n_estimators=0), dict(max_samples=0), dict(max_samples=1.5), dict(max_samples="all")],
    )


def test_random_state_makes_fitting_reproducible(images) -> None:
    config = IsolationForestConfig(n_estimators=20, random_state=3)
    first, second = IsolationForestModel(config), IsolationForestModel(IsolationForestConfig(**config.to_dict()))
    features = first.features(images["train"])
    first.fit(features), second.fit(features)
    assert torch.equal(first.score(images["noise"]), second.score(images["noise"]))


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_sklearn_fit_scores(fitted, images)


def test_unfitted_model_refuses_to_score_or_save(tmp_path) -> None:
    check_unfitted_model_refuses_to_score_or_save(IsolationForestModel, IsolationForestConfig, tmp_path)


def test_save_and_load_give_identical_scores(fitted, saved, images) -> None:
    check_sklearn_save_and_load(IsolationForestModel, fitted, saved, images)


def test_config_json_round_trip(saved, fitted) -> None:
    keys = ("feature_names", "feature_dim", "n_estimators", "max_samples", "random_state", "sklearn_version", "image_size")
    check_config_json_round_trip(IsolationForestConfig, saved, fitted, keys)


def test_sklearn_version_mismatch_warns(saved, tmp_path) -> None:
    check_sklearn_version_mismatch_warns(saved, tmp_path)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_shared_feature_cache(fitted, images)


def test_a_tampered_tree_is_refused_before_it_can_crash_the_process(tmp_path) -> None:
    """Only trusted types, but a child index far outside the tree: a clear error at load, never a segfault."""
    import io
    import zipfile

    import numpy as np
    import pytest

    from deepfake_detectors.modeling.feature_base import load_trusted_estimator

    members = REPO_ROOT / "hub_repos" / "fake-image-detection-ensemble" / "members"
    source = members / "isolation_forest" / "estimator.skops"
    if not source.exists():
        pytest.skip("bundled isolation forest not built")
    tampered = tmp_path / "estimator.skops"
    done = False
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if not done and item.filename.endswith(".npy"):
                array = np.load(io.BytesIO(data), allow_pickle=False)
                if array.dtype.names and "left_child" in array.dtype.names:
                    array["left_child"][0] = 10**9
                    buffer = io.BytesIO()
                    np.save(buffer, array, allow_pickle=False)
                    data, done = buffer.getvalue(), True
            copy.writestr(item, data)
    assert done
    with pytest.raises(ValueError, match="child index outside"):
        load_trusted_estimator(tampered)
    assert load_trusted_estimator(source) is not None


def test_tree_by_tree_scores_equal_scikit_learns_and_fall_back_when_they_cannot() -> None:
    import numpy as np
    from sklearn.ensemble import IsolationForest

    from deepfake_detectors.modeling.isolation_forest import forest_score_samples

    rng = np.random.default_rng(0)
    train, rows = rng.normal(size=(300, 6)), rng.normal(size=(40, 6)) * 1.5
    for settings in (dict(), dict(max_features=0.5), dict(max_samples=64, bootstrap=True)):
        forest = IsolationForest(n_estimators=30, random_state=0, **settings).fit(train)
        np.testing.assert_allclose(forest_score_samples(forest, rows), forest.score_samples(rows), rtol=1e-12)

    class OtherVersion:  # a forest without the fitted attributes the loop reads
        def score_samples(self, values: np.ndarray) -> np.ndarray:
            return np.arange(len(values), dtype=np.float64)

    np.testing.assert_array_equal(forest_score_samples(OtherVersion(), rows), np.arange(40))
    with_missing = rows.copy()
    with_missing[0, 2] = np.nan  # scikit-learn's trees route missing values; left to scikit-learn itself
    np.testing.assert_array_equal(forest_score_samples(forest, with_missing), forest.score_samples(with_missing))


def test_the_model_checks_its_fast_scores_on_the_first_batch(fitted, images, monkeypatch) -> None:
    import numpy as np

    from deepfake_detectors.modeling import isolation_forest

    batch = images["held_out"][:8]
    fitted.fast_scores_verified = None
    expected = -fitted.estimator.score_samples(fitted.standardise(fitted.features(batch)).numpy())
    assert torch.allclose(fitted.score(batch).double(), torch.from_numpy(expected)) and fitted.fast_scores_verified
    monkeypatch.setattr(isolation_forest, "forest_score_samples", lambda forest, values: np.zeros(len(values)))
    fitted.fast_scores_verified = None
    assert torch.allclose(fitted.score(batch).double(), torch.from_numpy(expected))  # a wrong fast path is not used
    assert fitted.fast_scores_verified is False
    fitted.fast_scores_verified = None
