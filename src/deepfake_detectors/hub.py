"""Model cards (``huggingface_hub.ModelCard`` with ``model-index`` metadata) for the repos in ``hub_repos/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from huggingface_hub import EvalResult, ModelCard, ModelCardData

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
        The card that was written.
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
    return card


def card_metrics(card_path: str | Path) -> dict[tuple[str, str, str], float]:
    """Read back ``{(dataset_type, split, metric_type): value}`` from a card's ``model-index``."""
    card = ModelCard.load(card_path)
    values = {}
    for entry in card.data.eval_results or []:
        values[(entry.dataset_type, entry.dataset_split, entry.metric_type)] = float(entry.metric_value)
    return values
