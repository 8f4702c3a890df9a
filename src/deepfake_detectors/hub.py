"""Model cards (``huggingface_hub.ModelCard`` with ``model-index`` metadata) for the repos in ``hub_repos/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from huggingface_hub import EvalResult, ModelCard, ModelCardData, SpaceCard
from safetensors import safe_open

#: results.json key -> (model-index metric type, display name)
CARD_METRICS = {
    "auroc": ("roc_auc", "AUROC"),
    "average_precision": ("average_precision", "Average precision"),
    "accuracy": ("accuracy", "Accuracy"),
    "precision": ("precision", "Precision"),
    "recall": ("recall", "Recall"),
    "f1": ("f1", "F1"),
}


def eval_results(
    results: dict[str, Any], dataset_name: str, dataset_type: str, split: str, task: str = "image-classification"
) -> list[EvalResult]:
    """Turn an evaluation ``results.json`` into ``EvalResult`` entries (figures that are ``None`` are left out).

    Args:
        results: the dict written by :func:`~deepfake_detectors.evaluation.evaluate_detector`.
        dataset_name: a display name such as ``"CIFAKE (re-split)"``.
        dataset_type: a dataset id such as ``"cifake"``.
        split: the evaluated split.
        task: the model-index task type.

    Example:
        >>> [r.metric_type for r in eval_results({"auroc": 0.9}, "CIFAKE", "cifake", "test")]
        ['roc_auc']
    """
    entries = []
    for key, (metric_type, metric_name) in CARD_METRICS.items():
        value = results.get(key)
        if value is None:
            continue
        entries.append(
            EvalResult(
                task_type=task,
                dataset_type=dataset_type,
                dataset_name=dataset_name,
                dataset_split=split,
                metric_type=metric_type,
                metric_name=metric_name,
                metric_value=round(float(value), 4),
            )
        )
    return entries


def metrics_table(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """A Markdown table with one row per evaluation: name, n, AUROC, AP, accuracy, precision, recall, F1, FPR."""

    def cell(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    lines = [
        "| evaluation | real / fake | AUROC | AP | accuracy | precision | recall | F1 | false-alarm rate | TPR @ 1% FPR |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in rows:
        lines.append(
            f"| {name} | {result.get('n_real')} / {result.get('n_fake')} | {cell(result.get('auroc'))} | "
            f"{cell(result.get('average_precision'))} | {cell(result.get('accuracy'))} | "
            f"{cell(result.get('precision'))} | {cell(result.get('recall'))} | {cell(result.get('f1'))} | "
            f"{cell(result.get('fpr'))} | {cell(result.get('tpr_at_fpr_1'))} |"
        )
    return "\n".join(lines)


def write_model_card(
    repo_dir: str | Path,
    *,
    model_name: str,
    body: str,
    evaluations: Iterable[tuple[dict[str, Any], str, str, str]],
    tags: Sequence[str] = (),
    datasets: Sequence[str] = ("cifake",),
    license: str = "mit",
    base_model: Optional[str] = None,
) -> ModelCard:
    """Write ``README.md`` (YAML metadata with ``model-index`` + Markdown body) into a hub repo folder.

    Args:
        repo_dir: the folder of the repo.
        model_name: the model-index name.
        body: the Markdown card text (after the metadata).
        evaluations: ``(results, dataset_name, dataset_type, split)`` for each evaluation to index.
        tags: extra tags (``deepfake-detection`` and ``image-classification`` are always added).
        datasets: dataset ids the model was trained or evaluated on.
        license: the licence id of the weights.
        base_model: a base model id, if the weights were fine-tuned from one.

    Returns:
        The card that was written (with the repo's domain section, when it has ``domain.safetensors`` and
        ``domain_report.json``: see :func:`~deepfake_detectors.cards.restore_domain_section`).
    """
    entries: list[EvalResult] = []
    for results, dataset_name, dataset_type, split in evaluations:
        entries.extend(eval_results(results, dataset_name, dataset_type, split))
    data = ModelCardData(
        library_name="deepfake-detectors",
        license=license,
        tags=["deepfake-detection", "ai-generated-image-detection", "image-classification", *tags],
        datasets=list(datasets),
        metrics=sorted({entry.metric_type for entry in entries}),
        pipeline_tag="image-classification",
        model_name=model_name,
        eval_results=entries or None,
        base_model=base_model,
    )
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body.strip()}\n")
    card.save(Path(repo_dir) / "README.md")
    from .cards import restore_domain_section  # cards imports this module

    if restore_domain_section(repo_dir):  # the section domain_report.py wrote into the card being replaced
        card = ModelCard.load(Path(repo_dir) / "README.md")
    return card


def card_metrics(card_path: str | Path) -> dict[tuple[str, str, str], float]:
    """Read back ``{(dataset_type, split, metric_type): value}`` from a card's ``model-index``."""
    card = ModelCard.load(card_path)
    values = {}
    for entry in card.data.eval_results or []:
        values[(entry.dataset_type, entry.dataset_split, entry.metric_type)] = float(entry.metric_value)
    return values


#: Files that can execute code when loaded; never published.
UNSAFE_SUFFIXES = (".bin", ".pkl", ".pickle", ".pt", ".pth", ".joblib")
#: Card metadata every published model repo carries.
REQUIRED_CARD_FIELDS = ("library_name", "license", "tags", "datasets", "metrics", "model-index")


#: The one bundled repo allowed more than a few MB: the published-size autoencoder (34.8M parameters), in float16.
PUBLISHED_SIZE_AUTOENCODER_BYTES = 75 * 2**20


def is_published_size_autoencoder(config: dict[str, Any]) -> bool:
    """Whether a ``config.json`` (as a dict) is the residual autoencoder at its published size.

    Example:
        >>> is_published_size_autoencoder({"model_type": "deepfake-residual-autoencoder", "hidden_sizes": [16, 32]})
        False
    """
    from .configuration.autoencoder import ResidualAutoencoderConfig

    published = ResidualAutoencoderConfig()
    return config.get("model_type") == published.model_type and config.get("hidden_sizes") == published.hidden_sizes


def validate_repo_folder(repo_dir: str | Path, max_weight_bytes: int = 10 * 2**20) -> list[str]:
    """Check that a ``hub_repos/`` folder is exactly what should be pushed; return the problems found (none = ok).

    Checks: ``README.md`` with the required YAML metadata (:data:`REQUIRED_CARD_FIELDS`) whose ``model-index``
    figures equal ``results_summary.json`` (rounded as in the card); ``config.json``; ``preprocessor_config.json``
    beside every model config; safetensors or skops weights, each under ``max_weight_bytes`` (the published-size
    autoencoder: :data:`PUBLISHED_SIZE_AUTOENCODER_BYTES`, stored in float16); no pickle-based files;
    ``thresholds_calibrated.json``; and every image the card shows.

    Args:
        repo_dir: the repo folder.
        max_weight_bytes: the largest weights file allowed.

    Example:
        >>> validate_repo_folder("hub_repos/deepfake-ela-cnn")
        []
    """
    import json
    import re

    root = Path(repo_dir)
    problems: list[str] = []
    readme = root / "README.md"
    for required in ("README.md", "config.json", "thresholds_calibrated.json", "results_summary.json"):
        if not (root / required).is_file():
            problems.append(f"{root.name}: missing {required}")
    if readme.is_file():
        card = ModelCard.load(readme)
        metadata = card.data.to_dict()
        for field in REQUIRED_CARD_FIELDS:
            if field == "model-index":
                if not card.data.eval_results:
                    problems.append(f"{root.name}: card has no model-index results")
            elif not metadata.get(field):
                problems.append(f"{root.name}: card metadata lacks {field}")
        if (root / "results_summary.json").is_file() and card.data.eval_results:
            results = json.loads((root / "results_summary.json").read_text())
            values = card_metrics(readme)
            for key, (metric_type, _) in CARD_METRICS.items():
                expected = results.get(key)
                shown = values.get((results_dataset_type(results), "test", metric_type))
                if expected is not None and (shown is None or abs(shown - round(expected, 4)) > 1e-9):
                    problems.append(f"{root.name}: card {metric_type} = {shown}, results_summary.json {key} = {expected}")
        for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", card.text):
            if "://" not in image and not (root / image).is_file():
                problems.append(f"{root.name}: card shows {image}, which is missing")
    weights = [p for p in root.rglob("*") if p.suffix in (".safetensors", ".skops")]
    config_file = root / "config.json"
    if config_file.is_file() and is_published_size_autoencoder(json.loads(config_file.read_text())):
        max_weight_bytes = max(max_weight_bytes, PUBLISHED_SIZE_AUTOENCODER_BYTES)
        with safe_open(str(root / "model.safetensors"), "pt") as stored:
            if any(stored.get_slice(key).get_dtype() not in ("F16", "I64") for key in stored.keys()):
                problems.append(f"{root.name}: the published-size autoencoder's weights must be stored in float16")
    if not weights:
        problems.append(f"{root.name}: no .safetensors or .skops weights")
    problems += [f"{root.name}: {p.relative_to(root)} is {p.stat().st_size / 2**20:.1f} MB (limit {max_weight_bytes / 2**20:.0f} MB)"
                 for p in weights if p.stat().st_size > max_weight_bytes]
    problems += [f"{root.name}: {p.relative_to(root)} is pickle-based" for p in root.rglob("*") if p.suffix in UNSAFE_SUFFIXES]
    for config_path in root.rglob("config.json"):
        model_type = json.loads(config_path.read_text()).get("model_type", "")
        if model_type != "deepfake-ensemble" and not (config_path.parent / "preprocessor_config.json").is_file():
            problems.append(f"{root.name}: {config_path.parent.relative_to(root)} has no preprocessor_config.json")
    return problems


def results_dataset_type(results: dict[str, Any]) -> str:
    """The dataset type a results file indexes in the card (``cifake`` for the CIFAKE evaluations)."""
    return "cifake" if "cifake" in str(results.get("dataset", "cifake")).lower() else Path(str(results["dataset"])).name


#: Captions of the evaluation plots ``deepfake-detect evaluate`` writes, in the order a card shows them.
PLOT_CAPTIONS: dict[str, str] = {
    "roc_curve": "ROC curve",
    "precision_recall": "precision-recall curve",
    "confusion_matrix": "confusion matrix",
    "score_histogram": "score histograms, real vs fake",
}


def plots_markdown(results: dict[str, Any], heading: str = "### Plots (CIFAKE test)") -> str:
    """Markdown showing the evaluation plots listed in a results dict (``results["plots"]``), or ``""``.

    Args:
        results: the ``results.json`` / ``results_summary.json`` content.
        heading: the Markdown heading above the images.

    Example:
        >>> plots_markdown({"plots": {"roc_curve": "roc_curve.png"}}).splitlines()[-1]
        '![ROC curve](roc_curve.png)'
    """
    plots = results.get("plots") or {}
    images = [f"![{PLOT_CAPTIONS.get(name, name)}]({path})" for name, path in plots.items()]
    return f"{heading}\n\n" + "\n".join(images) if images else ""


def group_table(results: dict[str, Any], column: str, heading: str) -> str:
    """A Markdown table of the per-group figures of ``results[f"by_{column}"]`` (per source or per generator).

    Args:
        results: an evaluation's results dict (with ``by_source`` / ``by_generator``).
        column: ``"source"`` or ``"generator"``.
        heading: the first column's title.

    Example:
        >>> group_table({"by_source": {"camera": {"n": 2, "n_real": 2, "n_fake": 0, "flagged": 0.5, "auroc": None}}},
        ...             "source", "source")
        '| source | real / fake | flagged as fake | AUROC |\\n|---|---|---|---|\\n| camera | 2 / 0 | 50.0% | n/a |'
    """
    lines = [f"| {heading} | real / fake | flagged as fake | AUROC |", "|---|---|---|---|"]
    for name, row in results.get(f"by_{column}", {}).items():
        auroc = "n/a" if row.get("auroc") is None else f"{row['auroc']:.3f}"
        lines.append(f"| {name} | {row['n_real']} / {row['n_fake']} | {100 * row['flagged']:.1f}% | {auroc} |")
    return "\n".join(lines)


#: Written into a published Space: ``{"model_namespace": ...}``, the Hub namespace its models are loaded from.
SPACE_SETTINGS_FILE = "space_settings.json"


def validate_space(space_dir: Path) -> list[str]:
    """Problems with the Space folder: README YAML (sdk gradio, sdk_version = installed gradio, app_file, licence)."""
    problems = []
    readme = space_dir / "README.md"
    if not readme.is_file():
        return [f"{space_dir}: missing README.md"]
    card = SpaceCard.load(readme).data
    if card.sdk != "gradio":
        problems.append(f"space README: sdk is {card.sdk!r}, not 'gradio'")
    try:
        import gradio

        if str(card.sdk_version) != gradio.__version__:
            problems.append(f"space README: sdk_version {card.sdk_version} but this project uses gradio {gradio.__version__}")
    except ImportError:
        problems.append("gradio is not installed, so sdk_version cannot be checked (pip install -e '.[dev]')")
    if not card.app_file or not (space_dir / card.app_file).is_file():
        problems.append(f"space README: app_file {card.app_file!r} not found")
    if not card.license:
        problems.append("space README: no license")
    if not (space_dir / "requirements.txt").is_file():
        problems.append("space: missing requirements.txt")
    return problems
