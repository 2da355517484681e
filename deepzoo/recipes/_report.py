"""``report.md``: the paper's number beside this run's, with data and time."""

import datetime
import platform
from pathlib import Path

from ._files import read_summary, write_text

__all__ = ["AIS_RAISE_GAP_LIMIT", "finished_runs", "format_value", "results_table",
           "unreliable_likelihood", "write_report"]

_PERCENT = ("accuracy", "error")

#: AIS's average test log-likelihood minus RAISE's (``ais_raise_gap_nats``)
#: further than this many nats from zero: the two estimates, which bracket
#: the truth (AIS from above, RAISE from below), disagree or are in the wrong
#: order, and the log-likelihood is not to be trusted.
AIS_RAISE_GAP_LIMIT = 1.0


def unreliable_likelihood(metrics):
    """Why a variant's log-likelihood is not to be trusted: its AIS-RAISE
    gap if the gap's size exceeds :data:`AIS_RAISE_GAP_LIMIT` (or is not a
    number), and AIS's +-3 SD interval for log Z if it reaches -inf (the
    importance weights' spread exceeds a third of their mean). A list of
    (short, long) descriptions; empty if neither holds."""
    reasons = []
    gap = metrics.get("ais_raise_gap_nats")
    if gap is not None and not abs(gap) <= AIS_RAISE_GAP_LIMIT:
        reasons.append((f"AIS-RAISE gap {gap:.3g} nats", f"AIS minus RAISE = {gap:.3g} nats"
                        + (" (AIS below RAISE: the wrong order, AIS's log Z too high)"
                           if gap < 0 else "")))
    if metrics.get("ais_log_z_low") == float("-inf"):
        reasons.append(("AIS interval reaches -inf",
                        "AIS's +-3 SD interval for log Z reaches -inf"))
    return reasons


def _this_run(metric, metrics):
    """The variant's number, with the reasons beside a log-likelihood that
    they make untrustworthy."""
    text = format_value(metric, metrics.get(metric))
    reasons = unreliable_likelihood(metrics)
    if reasons and "log_likelihood" in metric:
        text += f" (unreliable: {'; '.join(short for short, _ in reasons)})"
    return text


def format_value(metric, value):
    """Errors and accuracies as percentages, everything else as a number."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if any(word in metric for word in _PERCENT) and abs(value) <= 1:
        return f"{100 * value:.2f}%"
    return f"{value:.4g}"


def _time(metrics, seconds):
    """A variant's time; one that continues another's fit says so (its
    time leaves that fit out)."""
    after = metrics.get("warm_start_from")
    return f"{seconds:.0f} s" + (f" (after {after}'s fit)" if after else "")


def _variant_rows(summary):
    """``(name, metrics, paper value, seconds)`` per variant; the variant of
    a single-variant recipe takes the recipe's paper value (one variant run
    out of several does not: it would stand beside another model's number).
    Summaries written before ``paper_values`` listed a variantless recipe's
    ``main`` count the variants run instead."""
    for name, metrics in summary["variants"].items():
        paper_value = summary["paper_values"].get(name)
        if paper_value is None and len(summary["paper_values"] or summary["variants"]) == 1:
            paper_value = summary["paper"]["value"]
        yield name, metrics, paper_value, metrics["fit_seconds"] + metrics["measure_seconds"]


def write_report(summary, path):
    paper = summary["paper"]
    metric = paper["metric"]
    lines = [
        f"# {summary['title']}",
        "",
        f"Recipe `{summary['recipe']}` ({summary['kind']}), seed {summary['seed']}"
        + (f", starting from the pretraining run `{summary['starts_from']}`"
           if summary["starts_from"] else "")
        + f". Run on {datetime.date.today().isoformat()}, {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        f"Paper: {paper['source']}" + (f" ({paper['setting']})" if paper["setting"] else "") + ".",
        "",
        f"| variant | {metric}: paper | this run | data used | time |",
        "|---|---|---|---|---|",
    ]
    for name, metrics, paper_value, seconds in _variant_rows(summary):
        lines.append(
            f"| {name} | {format_value(metric, paper_value)} | "
            f"{_this_run(metric, metrics)} | {summary['data']} | {_time(metrics, seconds)} |"
        )
    flagged = {name: unreliable_likelihood(metrics)
               for name, metrics in summary["variants"].items()}
    flagged = {name: reasons for name, reasons in flagged.items() if reasons}
    if flagged:
        lines += ["", (f"**Unreliable log-likelihoods.** AIS (which errs high) and RAISE "
                       f"(which errs low) disagree by more than {AIS_RAISE_GAP_LIMIT:g} nat on "
                       "the same test images, or AIS's own interval is unbounded; neither "
                       "estimate is to be trusted for:"), ""]
        lines += [f"- {name}: " + "; ".join(text for _, text in reasons)
                  for name, reasons in flagged.items()]
    if paper["note"]:
        lines += ["", paper["note"]]
    if summary["baselines"]:
        lines += ["", "## Baselines (independent of the model, same data)", ""]
        lines += [f"- {key}: {format_value(key, value)}"
                  for key, value in summary["baselines"].items()]
    lines += ["", "## All measurements", ""]
    for name, metrics in summary["variants"].items():
        lines.append(f"### {name}")
        lines.append("")
        for key, value in metrics.items():
            if key == "figures":
                continue
            lines.append(f"- {key}: {format_value(key, value)}")
        for fig in metrics.get("figures", []):
            lines.append(f"- figure: ![{fig}]({fig})")
        lines.append("")
    if summary.get("figures_skipped"):
        lines += ["No figures: matplotlib was not installed for this run "
                  "(pip install 'deepzoo[figures]' to draw them).", ""]
    lines.append(f"Wall time of the whole run: {summary['wall_seconds']:.0f} s.")
    write_text(path, "\n".join(lines) + "\n")


def finished_runs(runs_dir):
    """The summaries of every finished run under ``runs_dir`` (a readable
    ``runs_dir/<name>/<kind>/metrics.json``), by name and kind; an empty list
    when there is none or ``runs_dir`` does not exist."""
    summaries = map(read_summary, sorted(Path(runs_dir).glob("*/*/metrics.json")))
    return [summary for summary in summaries if summary is not None]


def results_table(runs_dir):
    """A markdown table of every finished run under ``runs_dir``: for each
    variant, the paper's number, this run's, the data used and the wall time.
    Unfinished runs (no readable ``metrics.json``) are left out."""
    rows = [
        "| experiment | variant | metric | paper | this run | data used | time |",
        "|---|---|---|---|---|---|---|",
    ]
    for summary in finished_runs(runs_dir):
        metric = summary["paper"]["metric"]
        for name, metrics, paper_value, seconds in _variant_rows(summary):
            rows.append(
                f"| {summary['recipe']} ({summary['kind']}) | {name} | {metric} | "
                f"{format_value(metric, paper_value)} | {_this_run(metric, metrics)} | "
                f"{summary['data']} | {_time(metrics, seconds)} |")
    return "\n".join(rows) + "\n"
