"""`runwatch sweep` and `runwatch agent`: W&B's sweep commands, with no server (logger/sweeps/)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from logger.textsafe import safe_text

from ..fmt import fmt_exact, fmt_value, short
from .common import CliError, root_path
from .parser import ROOT_HELP, Command

SWEEP_HELP = "a sweep: the id `runwatch sweep` printed, or project/id"


def _sweeps() -> Any:
    """logger.sweeps, imported only by these commands."""
    import logger.sweeps

    return logger.sweeps


# -- sweep ----------------------------------------------------------------------------------
def configure_sweep(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="CONFIG|SWEEP_ID",
                   help="a sweep configuration (YAML or JSON) to create; with an action, a sweep id")
    p.add_argument("--project", help="the project the sweep and its runs belong to")
    p.add_argument("--root", help=ROOT_HELP)
    action = p.add_mutually_exclusive_group()
    action.add_argument("--stop", dest="action", action="store_const", const="stop",
                        help="start no new trials; running trials finish")
    action.add_argument("--cancel", dest="action", action="store_const", const="cancel",
                        help="start no new trials, and stop (SIGTERM) the running ones")
    action.add_argument("--resume", dest="action", action="store_const", const="resume",
                        help="let agents start trials again after --stop or --cancel")
    action.add_argument("--status", dest="action", action="store_const", const="status",
                        help="print the sweep's trials by state, and their runs")


def run_sweep(args: argparse.Namespace, out: TextIO) -> int:
    sweeps = _sweeps()
    root = root_path(args.root)
    try:
        if args.action is None:
            config = sweeps.load_config(args.target)
            sweep_id = sweeps.sweep(config, project=args.project, dir=root)
            project = args.project or config.get("project") or "uncategorized"
            print(f"runwatch: created sweep {sweep_id} in {safe_text(root)}; run agents with:\n"
                  f"    runwatch agent {safe_text(project)}/{sweep_id} --root {safe_text(root)}",
                  file=sys.stderr)
            out.write(sweep_id + "\n")
            return 0
        if args.action == "status":
            found = sweeps.find_sweep(root, args.target, args.project)
            out.write("".join(status_lines(sweeps.sweep_summary(found))))
            return 0
        found = sweeps.control(args.target, args.action, project=args.project, dir=root)
    except (sweeps.SweepConfigError, OSError) as exc:
        raise CliError(safe_text(str(exc))) from None
    print(f"runwatch: sweep {found.project}/{found.id}: {args.action} recorded", file=sys.stderr)
    return 0


def status_lines(summary: dict[str, Any]) -> list[str]:
    """`runwatch sweep --status`: the sweep, counts by state, the best trial, then each trial."""
    counts = ", ".join(f"{n} {s}" for s, n in sorted(summary["counts"].items())) or "no trials yet"
    lines = [f"sweep     {safe_text(summary['project'])}/{safe_text(summary['id'])}\n",
             f"method    {safe_text(summary['method'])}\n",
             f"control   {safe_text(summary['control'])}\n",
             f"trials    {counts}\n"]
    best = summary["best"]
    if best is not None:
        lines.append(f"best      {safe_text(summary['metric'])}={fmt_value(best['metric'], 16)}  "
                     f"run {safe_text(best['run_id'])}  {_exact_params(best['params'])}\n")
    for t in summary["trials"]:
        metric = "-" if t["metric"] is None else fmt_value(t["metric"], 16)
        lines.append(f"  {t['trial']}.g{t['gen']}  {t['state']:<9} {safe_text(t['run_id']):<10} "
                     f"{metric:>12}  {_params(t['params'])}\n")
    return lines


def _params(params: dict[str, Any]) -> str:
    return short(" ".join(f"{k}={fmt_value(v, 24)}" for k, v in params.items()), 120)


def _exact_params(params: dict[str, Any]) -> str:
    """The best trial's parameters with every digit (the line copied to rerun it): four
    decimals had turned lr 0.0644289101483281 into 0.0644."""
    return " ".join(f"{safe_text(k)}={fmt_exact(v)}" for k, v in params.items())


SWEEP = Command("sweep", "create a sweep from a W&B sweep configuration; stop, cancel or resume one",
                """\
  runwatch sweep sweep.yaml                      prints the new sweep's id
  runwatch sweep sweep.yaml --project mnist --root /shared/runs
  runwatch sweep --stop mnist/3kq9x2ab           no new trials; running ones finish
  runwatch sweep --cancel 3kq9x2ab               and SIGTERM the running ones
  runwatch sweep --resume 3kq9x2ab
  runwatch sweep --status 3kq9x2ab""", configure_sweep, run_sweep,
                description="Creates a sweep (method grid, random or bayes; W&B's configuration "
                            "keys) as a directory\nunder the root. Agents on any host that "
                            "mounts the root claim its trials; no server.")


# -- agent ----------------------------------------------------------------------------------
def configure_agent(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep_id", metavar="SWEEP_ID", help=SWEEP_HELP)
    p.add_argument("--count", type=_count, help="run at most this many trials (default: until done)")
    p.add_argument("--project", help="the sweep's project, when the id alone is ambiguous")
    p.add_argument("--root", help=ROOT_HELP)


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of trials, 1 or more")
    return int(text)


def run_agent(args: argparse.Namespace, out: TextIO) -> int:
    sweeps = _sweeps()
    root = root_path(args.root)
    try:
        ran = sweeps.agent(args.sweep_id, project=args.project, count=args.count, dir=root)
    except (sweeps.SweepConfigError, OSError) as exc:
        raise CliError(safe_text(str(exc))) from None
    except sweeps.AgentGaveUp as exc:
        raise CliError(safe_text(str(exc)), code=1) from None
    print(f"runwatch agent: ran {ran} trial{'s' if ran != 1 else ''}", file=sys.stderr)
    return 0


AGENT = Command("agent", "run a sweep's trials: its program once per trial, with the parameters",
                """\
  runwatch agent 3kq9x2ab                        until the sweep is done or stopped
  runwatch agent mnist/3kq9x2ab --count 5 --root /shared/runs
  sbatch --array=0-15 --wrap 'runwatch agent mnist/3kq9x2ab'   one agent per job""",
                configure_agent, run_agent,
                description="Claims the sweep's next trial and runs its `program` (W&B's "
                            "`command` and macros apply)\nwith the parameters as --key=value; "
                            "any number of agents, on any hosts, share a sweep.")
