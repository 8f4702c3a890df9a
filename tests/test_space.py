"""The Gradio Space, started on localhost and used the way people use it: gradio_client and a real browser."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import socket
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT

gradio = pytest.importorskip("gradio", reason="the Space needs gradio (pip install -e '.[dev]')")
from gradio_client import Client, handle_file  # noqa: E402

EXAMPLES = REPO_ROOT / "examples"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Chromium on a machine without outside network: no background connections, no sandbox (runs as root in CI).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def space_module():
    spec = importlib.util.spec_from_file_location("deepfake_space_app", REPO_ROOT / "space" / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # gradio looks components' classes up by module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(space_module):
    """The Space running on a free localhost port; yields its URL."""
    demo = space_module.build_demo()
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, show_error=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server, verbose=False)


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "not_a_photo.jpg"
    path.write_bytes(b"this is not an image")
    return path


def test_space_offers_every_detector_and_member(space_module) -> None:
    labels = list(space_module.SOURCES)
    for label in space_module.MAIN_DETECTORS:
        assert label in labels and Path(space_module.SOURCES[label]).is_dir()
    members = [label for label in labels if " member: " in label]
    assert len([m for m in members if m.startswith("9-member")]) == 9
    assert {m.split(": ")[1] for m in members if m.startswith("SVDD")} == {"residual_autoencoder", "deep_svdd"}


def test_a_published_space_loads_models_from_the_namespace_it_was_published_to(tmp_path, monkeypatch) -> None:
    """publish.py writes space_settings.json; a Space without hub_repos/ then loads <namespace>/<repo>."""
    import json

    space = tmp_path / "space"
    space.mkdir()
    shutil.copy(REPO_ROOT / "space" / "app.py", space / "app.py")
    (space / "space_settings.json").write_text(json.dumps({"model_namespace": "my-org"}))
    monkeypatch.delenv("DEEPFAKE_DETECTORS_NAMESPACE", raising=False)
    monkeypatch.setenv("DEEPFAKE_DETECTORS_HUB_DIR", str(tmp_path / "no_hub_repos"))
    spec = importlib.util.spec_from_file_location("published_space_app", space / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.SOURCES["NPR detector (photos, native resolution)"] == "my-org/deepfake-npr-detector"


def test_the_score_chart_names_the_member_that_judged(space_module) -> None:
    figure = space_module.member_score_figure({"npr": 0.4}, 0.4, 1.5, "balanced")
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == ["score (npr)"]
    figure = space_module.member_score_figure({"a": 0.4, "b": 2.0}, 1.2, 1.5, "balanced")
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == ["a", "b", "combined"]


def test_the_score_chart_caption_is_not_clipped(space_module) -> None:
    """A long member name pushes the axes right; the caption must still fit the figure (it once ran off its edge)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = space_module.member_score_figure({"reconstruction_error": 0.08}, 0.08, 1.73, "balanced")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    drawn = figure.get_tightbbox(canvas.get_renderer())  # inches, every text included
    assert drawn.x0 >= 0 and drawn.x1 <= figure.get_figwidth()
    assert "red bars are on the fake side" in figure.get_supxlabel()


def test_models_env_var_adds_a_detector(space_module, monkeypatch) -> None:
    monkeypatch.setenv("DEEPFAKE_DETECTORS_MODELS", f"My ELA={REPO_ROOT / 'hub_repos' / 'deepfake-ela-cnn'}")
    assert space_module.detector_sources()["My ELA"] == str(REPO_ROOT / "hub_repos" / "deepfake-ela-cnn")


class NoProgress:
    """Stands in for ``gr.Progress`` when a batch function is called directly."""

    def tqdm(self, iterable, **_):
        return iterable


def test_precision_env_var_runs_the_photo_judge_in_bfloat16_and_says_so(space_module, monkeypatch) -> None:
    default_label = next(iter(space_module.MAIN_DETECTORS))
    monkeypatch.setenv("DEEPFAKE_DETECTORS_PRECISION", "bfloat16")
    space_module.load_detector.cache_clear()
    try:
        detector = space_module.load_detector(default_label)
        assert detector.precision == "bfloat16"
        result = detector.predict(str(EXAMPLES / "photo_real_01.jpg"))
        assert "Scored in bfloat16" in space_module.verdict_markdown(result, default_label, detector.precision)
        assert "bfloat16" not in space_module.verdict_markdown(result, default_label)
        rows, csv_path = space_module.analyze_batch(
            [str(EXAMPLES / "photo_real_01.jpg")], default_label, "balanced", 0.5, progress=NoProgress()
        )
        assert rows[0][space_module.BATCH_HEADER.index("precision")] == "bfloat16"  # the downloaded table says so
        assert Path(csv_path).read_text().splitlines()[0].endswith(",precision")
        monkeypatch.setenv("DEEPFAKE_DETECTORS_PRECISION", "float16")
        with pytest.raises(ValueError, match="DEEPFAKE_DETECTORS_PRECISION='float16'"):
            space_module.build_demo()  # the Space stops at start, naming the setting
    finally:
        space_module.load_detector.cache_clear()  # the other tests get float32 detectors again


def test_client_analyses_one_image(client: Client) -> None:
    confidences, summary, _plot, gallery, exif = client.predict(
        handle_file(str(EXAMPLES / "fake_01.jpg")), "ELA + CNN", "balanced", 0.5, api_name="/analyze"
    )
    assert confidences["label"] == "fake"  # the bundled ELA + CNN detector catches this example
    assert {entry["label"] for entry in confidences["confidences"]} == {"fake", "real"}
    assert summary.startswith("**FAKE**")
    assert {item["caption"] for item in gallery} == {"ELA map (ela_cnn)", "FFT spectrum"}
    assert exif["data"] == [["(none)", "no EXIF metadata in this file"]]
    verdict = client.predict(handle_file(str(EXAMPLES / "real_01.jpg")), "ELA + CNN", "strict", 0.5, api_name="/predict")
    assert verdict["label"] == "real" and verdict["threshold_name"] == "strict" and verdict["source"] == "real_01.jpg"
    low, high = (
        client.predict(handle_file(str(EXAMPLES / "real_01.jpg")), "ELA + CNN", "custom", p, api_name="/predict")
        for p in (0.01, 0.99)
    )  # a custom threshold is a probability of fake: a higher one cuts higher on the score scale
    assert low["threshold_name"] == high["threshold_name"] == "manual" and low["threshold"] < high["threshold"]
    assert (low["label"], high["label"]) == ("fake", "real")
    default = client.predict(handle_file(str(EXAMPLES / "real_01.jpg")), "ELA + CNN", "default", 0.5, api_name="/predict")
    assert default["threshold_name"] == "optimal"  # the supervised classifier's own default


def test_the_verdict_warns_when_the_image_is_unlike_the_training_images(client: Client) -> None:
    _, summary, *_ = client.predict(
        handle_file(str(EXAMPLES / "photo_real_01.jpg")), "ELA + CNN", "default", 0.5, api_name="/analyze"
    )
    assert summary.startswith("**Warning: this image is unlike anything this detector was trained on")
    _, summary, *_ = client.predict(
        handle_file(str(EXAMPLES / "photo_real_01.jpg")), "NPR detector (photos, native resolution)", "default", 0.5,
        api_name="/analyze",
    )
    assert "Warning" not in summary


def test_client_scores_a_batch_with_a_zip_and_a_bad_file(client: Client, bad_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(EXAMPLES / "real_02.jpg", "folder/real_02.jpg")
        handle.writestr("notes.txt", "ignored: not an image")
    files = [handle_file(str(EXAMPLES / "fake_02.jpg")), handle_file(str(bad_file)), handle_file(str(archive))]
    table, csv_path = client.predict(files, "ELA + CNN", "balanced", 0.5, api_name="/batch")
    rows = {row[0]: row for row in table["data"]}
    assert set(rows) == {"fake_02.jpg", "not_a_photo.jpg", "more.zip/folder/real_02.jpg"}
    assert rows["fake_02.jpg"][1] == "fake" and rows["more.zip/folder/real_02.jpg"][1] == "real"
    assert rows["not_a_photo.jpg"][1] == "error" and "not_a_photo.jpg" in rows["not_a_photo.jpg"][6]
    with open(csv_path, newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["file", "verdict", "confidence", "score", "p_fake", "in_domain", "error", "metadata", "precision"]
    assert len(written) == 4


def test_client_gets_a_readable_error_for_a_bad_upload(client: Client, bad_file: Path) -> None:
    with pytest.raises(Exception, match="not_a_photo.jpg could not be read as an image") as error:
        client.predict(handle_file(str(bad_file)), "ELA + CNN", "balanced", 0.5, api_name="/analyze")
    assert "Traceback" not in str(error.value)


def test_browser_uploads_an_example_and_shows_the_verdict(server: str, tmp_path: Path) -> None:
    """A real browser at desktop and phone widths: a real photo analysed, the batch and About tabs, an empty submit.

    With ``SPACE_SCREENSHOTS=<folder>`` the screenshots are kept there (``space/screenshots/`` holds the ones
    linked from ``space/README.md``: ``SPACE_SCREENSHOTS=space/screenshots pytest tests/test_space.py -k browser``).
    """
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (make test installs Debian's chromium where apt works)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    shots = Path(os.environ.get("SPACE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    texts = {}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for width, height, suffix in ((1400, 1000, "desktop"), (412, 915, "phone")):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(server, wait_until="domcontentloaded")
                page.locator("#analyse-button").click()  # nothing uploaded yet: a message, no error boxes
                page.wait_for_function(
                    "() => /Upload, paste or pick an image first/.test(document.querySelector('#summary')?.innerText || '')",
                    timeout=60_000,
                )
                texts[f"empty_{suffix}"] = page.locator("body").inner_text()
                page.close()
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(server, wait_until="domcontentloaded")
                page.locator("#image-input input[type=file]").set_input_files(str(EXAMPLES / "photo_real_01.jpg"))
                page.locator("#image-input img").first.wait_for(timeout=30_000)
                page.locator("#analyse-button").click()
                page.wait_for_function(
                    "() => /\\b(FAKE|REAL)\\b/.test(document.querySelector('#summary')?.innerText || '')",
                    timeout=180_000,
                )
                page.locator("#explanations img").first.wait_for(timeout=60_000)
                texts[f"analyse_{suffix}"] = page.locator("#summary").inner_text()
                page.screenshot(path=str(shots / f"analyse_real_photo_{suffix}.png"), full_page=True)
                for tab in ("Batch", "About"):
                    page.get_by_role("tab", name=tab).click()
                    page.wait_for_timeout(500)
                    texts[f"{tab}_{suffix}"] = page.locator("body").inner_text()
                    page.screenshot(path=str(shots / f"{tab.lower()}_tab_{suffix}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    for suffix in ("desktop", "phone"):
        assert "Judged by its reconstruction_error member" in texts[f"analyse_{suffix}"]  # photos go to that judge
        assert re.search(r"\b(FAKE|REAL)\b", texts[f"analyse_{suffix}"])
        assert texts[f"empty_{suffix}"].count("Error") == 0
        assert "Score all" in texts[f"Batch_{suffix}"] and "Limits, in plain words" in texts[f"About_{suffix}"]
    for picture in shots.glob("*.png"):
        assert picture.stat().st_size > 10_000


def test_batch_tab_caps_zip_entries_and_escapes_csv_cells(space_module, tmp_path, monkeypatch) -> None:
    """Zip entries over the size cap or the count cap become error rows; formula-like names are escaped in the CSV."""

    monkeypatch.setattr(space_module, "MAX_ZIP_ENTRY_BYTES", 4000)
    monkeypatch.setattr(space_module, "MAX_ZIP_ENTRIES", 3)
    archive = tmp_path / "=1+2.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.write(EXAMPLES / "real_02.jpg", "photo.jpg")
        handle.writestr("huge.png", bytes(100_000))  # compresses to almost nothing, 100 KB uncompressed
        for index in range(3):
            handle.write(EXAMPLES / "fake_02.jpg", f"more_{index}.jpg")
    rows, csv_path = space_module.analyze_batch([str(archive)], "ELA + CNN", "balanced", 0.5, progress=NoProgress())
    by_name = {row[0]: row for row in rows}
    assert by_name["=1+2.zip/photo.jpg"][1] in ("real", "fake") and by_name["=1+2.zip/photo.jpg"][6] is None
    assert "larger than" in by_name["=1+2.zip/huge.png"][6]
    assert "more than 3 images" in by_name["=1+2.zip/more_1.jpg"][6] and "=1+2.zip/more_2.jpg" not in by_name
    with open(csv_path, newline="") as handle:
        written = list(csv.reader(handle))
    assert written[1][0] == "'=1+2.zip/photo.jpg"  # a spreadsheet shows the name, never runs it


def test_batch_table_names_what_each_file_declares(space_module, tmp_path) -> None:
    """A file whose metadata declares AI generation says so in its own column, from a folder or from a zip."""
    from PIL import Image, PngImagePlugin

    settings = PngImagePlugin.PngInfo()
    settings.add_text("parameters", "a lighthouse\nSteps: 25, Sampler: Euler a, CFG scale: 7")
    Image.open(EXAMPLES / "real_02.jpg").convert("RGB").save(tmp_path / "labelled.png", pnginfo=settings)
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(tmp_path / "labelled.png", "inside.png")
    files = [str(tmp_path / "labelled.png"), str(EXAMPLES / "real_02.jpg"), str(archive)]
    rows, _ = space_module.analyze_batch(files, "ELA + CNN", "balanced", 0.5, progress=NoProgress())
    metadata = {row[0]: row[7] for row in rows}
    assert {row[8] for row in rows} == {"float32"}  # the precision column, as the Space runs by default
    assert metadata["labelled.png"].startswith("declares AI: PNG text 'parameters'")
    assert metadata["set.zip/inside.png"] == metadata["labelled.png"]
    assert metadata["real_02.jpg"] == ""


def test_twenty_concurrent_clients_on_a_cold_space_are_all_served(space_module, server) -> None:
    """Cold start under load: detectors (one with float64 members) load in parallel requests; none may fail."""
    from concurrent.futures import ThreadPoolExecutor

    space_module.load_detector.cache_clear()
    labels = ["NPR detector (photos, native resolution)", "9-member one-class ensemble",
              "Deep SVDD + autoencoder ensemble", "ELA + CNN"]

    def request(index: int) -> dict:
        client = Client(server, verbose=False)
        image = handle_file(str(EXAMPLES / ("photo_fake_01.jpg" if index % 2 else "real_01.jpg")))
        return client.predict(image, labels[index % len(labels)], "balanced", 0.5, api_name="/predict")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(request, range(20)))
    assert len(answers) == 20 and all(answer["label"] in ("real", "fake") for answer in answers)


def test_hostile_corpus_through_the_space_api(client) -> None:
    """Every file of the committed hostile corpus gets a row: a verdict or an error naming it; good files scored."""
    corpus = sorted((REPO_ROOT / "tests" / "data" / "hostile").iterdir())
    table, _ = client.predict(
        [handle_file(str(path)) for path in corpus], "NPR detector (photos, native resolution)", "balanced", 0.5,
        api_name="/batch",
    )
    rows = table["data"] if isinstance(table, dict) else table
    assert len(rows) == len(corpus)
    for row in rows:
        assert row[1] in ("real", "fake") or (row[1] == "error" and row[0] in row[6])
    assert all(row[1] in ("real", "fake") for row in rows if row[0].startswith("good_"))


def test_space_api_top_label_is_the_verdict_for_every_detector_and_threshold(client: Client, space_module) -> None:
    """The Verdict panel's view (``pipeline``) puts the verdict first, for each main detector and threshold."""
    presets = [preset for preset in space_module.THRESHOLD_PRESETS if preset != "custom"]
    examples = ("photo_real_01.jpg", "fake_01.jpg")
    for label in space_module.MAIN_DETECTORS:
        for number, preset in enumerate(presets):
            # A photo and a CIFAKE image in turn: each detector sees both, each preset one (the slow photo
            # detectors take half a second a call).
            example = examples[number % 2]
            try:
                row = client.predict(handle_file(str(EXAMPLES / example)), label, preset, 0.5, api_name="/predict")
            except Exception as error:  # only a threshold the detector was not calibrated for may be refused
                assert preset == "optimal" and "not available" in str(error), (label, preset, error)
                continue
            assert row["pipeline"][0]["label"] == row["label"], (label, preset, example)
            assert row["pipeline"][0]["score"] >= 0.5
