"""Scoring commands: train the risk model, tier a district, evaluate against the truth."""

from __future__ import annotations

import functools
import sys
import time
from datetime import date
from pathlib import Path

import click

from riskplan.i18n import _

from .base import EXIT_BAD_INPUT, main, reports_bad_input


def _reports_model_errors(func):
    """A model or truth file that cannot be used, or a district too short to train on, is bad
    input too: message and exit 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from riskplan.score.model import ModelError, TrainingError

        try:
            return func(*args, **kwargs)
        except (ModelError, TrainingError, FileNotFoundError) as exc:
            click.echo(_("error: {message}").format(message=exc), err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


def _progress():
    """Status lines on stderr with the elapsed time."""
    from rich.console import Console

    console = Console(stderr=True)
    start = time.perf_counter()

    def say(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - start:6.1f}s[/dim] {message}", highlight=False)

    return say


_AS_OF = click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                      help="score as of this date (YYYY-MM-DD); default: the day after the latest history date")


_HISTORY_THROUGH = click.option(
    "--history-through", "history_through", type=click.DateTime(["%Y-%m-%d"]), default=None,
    help="the records are complete through this date (YYYY-MM-DD); default: the last record, or the day before "
         "the as-of date when only non-working days lie between")


def _day(value) -> date | None:
    return value.date() if value is not None else None


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@_AS_OF
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="model folder to write, e.g. models/NAME")
@click.option("--seed", type=int, default=0, show_default=True, help="random seed (calibration folds, boosting)")
@click.option("--model-kind", "kinds", type=click.Choice(["logistic", "boosting"]), multiple=True,
              help="candidate(s) to compare (default: both)")
@_HISTORY_THROUGH
@click.option("--adjust-for-inspectors/--findings-as-recorded", "adjust", default=True, show_default=True,
              help="divide past findings by the inspecting team's estimated finding propensity (docs/scoring.md)")
@click.option("--force", is_flag=True, help="replace an existing --out folder")
@reports_bad_input
@_reports_model_errors
def train(district_dir: Path, as_of, out_dir: Path, seed: int, kinds: tuple[str, ...], history_through,
          adjust: bool, force: bool) -> None:
    """Train, validate over time and save a risk model (model, card, validation report + PNG)."""
    from riskplan.outputs import refuse_existing
    from riskplan.load.district import load_district
    from riskplan.score.model import CANDIDATES
    from riskplan.score.model import train as train_model
    from riskplan.score.model_files import save_trained

    say = _progress()
    out_dir = Path(out_dir)
    refuse_existing(out_dir, force, "folder", inputs=(district_dir,))  # before the work, not after it
    say(_("loading {path}").format(path=district_dir))
    district = load_district(district_dir)
    result = train_model(district, _day(as_of), seed=seed, kinds=kinds or CANDIDATES, progress=say,
                         history_through=_day(history_through), inspector_adjustment=adjust)
    say(_("writing {path}").format(path=out_dir))
    save_trained(result, out_dir, force=force)
    click.echo(result.validation.text())
    click.echo("\n" + _("Wrote {path}: model.skops, model_card.json, MODEL_CARD.md, validation_report.txt, "
                        "validation.png (trained in {seconds} s)").format(path=out_dir,
                                                                          seconds=f"{result.seconds:.1f}"))


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.option("--model", "model_dir", type=click.Path(path_type=Path), default=None,
              help="model folder (default: the shipped models/default)")
@_AS_OF
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help="tiers file (.csv or .xlsx)")
@click.option("--force", is_flag=True, help="replace an existing --out file")
@reports_bad_input
@_reports_model_errors
def tier(district_dir: Path, model_dir: Path | None, as_of, out_file: Path, force: bool) -> None:
    """Tier every enterprise: probability, tier, override, three reasons; counts per subdistrict."""
    from riskplan.io import write_table
    from riskplan.outputs import TABLE_EXTENSIONS, refuse_existing
    from riskplan.load.district import load_district
    from riskplan.score.model_files import load_default_model, load_model
    from riskplan.score.tiering import is_tiers_output, tier_counts, tier_district, tier_warnings, tiers_table

    refuse_existing(out_file, force, "file", inputs=(district_dir, model_dir), suffixes=TABLE_EXTENSIONS,
                    own=is_tiers_output)
    district = load_district(district_dir)
    model = load_model(model_dir) if model_dir else load_default_model()
    tiers = tier_district(district, model, _day(as_of))
    for warning in tier_warnings(tiers):
        click.echo(_("Warning: {warning}").format(warning=warning), err=True)
    write_table(tiers_table(tiers), out_file)
    click.echo(_("Wrote {path}: {count} enterprises, model {model}").format(path=out_file, count=len(tiers),
                                                                          model=model.path))
    click.echo(tier_counts(tiers, district).to_string())


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.option("--model", "model_dir", type=click.Path(path_type=Path), default=None,
              help="model folder (default: the shipped models/default)")
@reports_bad_input
@_reports_model_errors
def evaluate(district_dir: Path, model_dir: Path | None) -> None:
    """On a synthetic district with truth.csv: model vs rule baseline vs oracle, and the bias audit.

    Scored as of the day after the history ends: the 12 months truth.csv describes."""
    from riskplan.load.district import load_district
    from riskplan.score.evaluation import evaluate_district
    from riskplan.score.model_files import load_default_model, load_model

    district = load_district(district_dir)
    model = load_model(model_dir) if model_dir else load_default_model()
    click.echo(evaluate_district(district, model).text())


@main.command()
@click.argument("district_dir", type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="the past date to score as of (YYYY-MM-DD); the records must cover the horizon after it")
@click.option("--horizon", default="12m", show_default=True, help="outcome window after the as-of date (12m, 6m, 90d)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="folder to write")
@click.option("--model", "model_dir", type=click.Path(path_type=Path), default=None,
              help="score with this model folder instead of training one on the records before the as-of date")
@click.option("--seed", type=int, default=0, show_default=True, help="random seed of the training")
@click.option("--model-kind", "kinds", type=click.Choice(["logistic", "boosting"]), multiple=True,
              help="candidate(s) to train (default: both)")
@click.option("--format", "table_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True,
              help="table format")
@click.option("--force", is_flag=True, help="replace an existing --out folder riskplan wrote")
@reports_bad_input
@_reports_model_errors
def backtest(district_dir: Path, as_of, horizon: str, out_dir: Path, model_dir: Path | None, seed: int,
             kinds: tuple[str, ...], table_format: str, force: bool) -> None:
    """How well would the score have worked here? Train before a past date, score as of it, compare
    with the events the records show after it: AP, ROC AUC, precision at capacity, calibration, tiers,
    against the rule baseline and the most recent findings (tables, PNG, JSON)."""
    from riskplan.load.district import load_district
    from riskplan.outputs import refuse_existing
    from riskplan.score.backtest import BacktestError, parse_horizon, write_backtest
    from riskplan.score.backtest import backtest as run_backtest
    from riskplan.score.model_files import load_model

    say = _progress()
    try:
        days = parse_horizon(horizon)
        refuse_existing(out_dir, force, "folder", inputs=(district_dir, model_dir))
        district = load_district(district_dir)
        model = load_model(model_dir) if model_dir else None
        result = run_backtest(district, _day(as_of), days, seed=seed, kinds=kinds or None, progress=say, model=model)
    except BacktestError as exc:
        click.echo(_("error: {message}").format(message=exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    names = write_backtest(result, out_dir, force=force, table_format=table_format, inputs=(district_dir, model_dir))
    click.echo(result.text())
    click.echo("\n" + _("Wrote {path}: {files}").format(path=out_dir, files=", ".join(names)))
