"""Sweep configurations, sampling and command lines, as W&B documents them (logger/sweeps/)."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from logger.sweeps import SweepConfigError, load_config
from logger.sweeps.command import build_command
from logger.sweeps.config import check_config
from logger.sweeps.hyperband import bands
from logger.sweeps.search import draw, grid_points, propose_bayes, sample
from logger.sweeps.store import Claim, Sweep

from .conftest import REPO, script_env


def config(**params: object) -> dict:
    return {"method": "random", "parameters": params}


@pytest.mark.parametrize(("raw", "fault"), [
    ({"method": "grid", "parameters": {"lr": {"values": [1]}}, "methd": 1}, "'methd'"),
    ({"method": "hill", "parameters": {"lr": {"values": [1]}}}, "'method'"),
    ({"method": "random", "parameters": {}}, "'parameters'"),
    (config(lr={"distribution": "uniform", "min": 1}), "'parameters.lr': distribution 'uniform' needs 'max'"),
    (config(lr={"distribution": "gauss"}), "'parameters.lr.distribution'"),
    (config(lr={"min": 2, "max": 1}), "'parameters.lr': min 2 is above max 1"),
    (config(lr={"distribution": "log_uniform_values", "min": 0, "max": 1}), "needs min above 0"),
    (config(lr={"valuez": [1]}), "'parameters.lr': unknown key 'valuez'"),
    (config(opt={"parameters": {"lr": {"min": "a", "max": 1}}}), "'parameters.opt.lr.min'"),
    ({"method": "bayes", "parameters": {"lr": {"values": [1]}}}, "needs 'metric'"),
    ({**config(lr={"values": [1]}), "metric": {"name": "x", "goal": "lower"}}, "'metric.goal'"),
    ({**config(lr={"values": [1]}), "run_cap": 0}, "'run_cap'"),
    ({"method": "grid", "parameters": {"lr": {"min": 0.1, "max": 1.0}}}, "'lr': grid search needs"),
    ({**config(lr={"values": [1]}), "command": "python train.py"}, "'command'"),
    ({**config(lr={"values": [1]}), "early_terminate": {"type": "hyperband"}}, "'early_terminate'"),
    ({**config(lr={"values": [1]}), "early_terminate": {"type": "hyperband", "min_iter": 3}},
     "'early_terminate' needs 'metric'"),
    ({**config(lr={"values": [1]}), "metric": {"name": "loss"},
      "early_terminate": {"type": "hyperband", "max_iter": 27}}, "max_iter needs 's'"),
])
def test_a_bad_configuration_names_the_key_at_fault(raw: dict, fault: str) -> None:
    with pytest.raises(SweepConfigError, match=re.escape(fault)):
        check_config(raw)


def test_distributions_are_inferred_as_wandb_does() -> None:
    got = check_config(config(a={"values": [1, 2]}, b={"value": 3}, c={"min": 1, "max": 5},
                              d={"min": 0.1, "max": 1}, e={"mu": 0, "sigma": 2}))
    dists = {k: v["distribution"] for k, v in got["parameters"].items()}
    assert dists == {"a": "categorical", "b": "constant", "c": "int_uniform", "d": "uniform", "e": "normal"}


def test_every_distribution_samples_where_wandb_says() -> None:
    rng = random.Random(7)

    def many(**spec: object) -> list:
        checked = check_config(config(p=spec))["parameters"]["p"]
        return [draw(checked, rng) for _ in range(4000)]

    ints = many(distribution="int_uniform", min=1, max=3)
    assert set(ints) == {1, 2, 3}
    logs = many(distribution="log_uniform_values", min=1e-4, max=1e-1)
    assert all(1e-4 <= x <= 1e-1 for x in logs)
    assert 0.35 < sum(x < 10 ** -2.5 for x in logs) / len(logs) < 0.65  # half below the log midpoint
    assert all(math.exp(-2) <= x <= math.exp(0) for x in many(distribution="log_uniform", min=-2, max=0))
    inv = many(distribution="inv_log_uniform_values", min=0.01, max=1)
    assert all(0.01 <= x <= 1 for x in inv)
    assert 0.35 < sum(x < 0.1 for x in inv) / len(inv) < 0.65
    qs = many(distribution="q_uniform", min=0, max=10, q=2)
    assert set(qs) <= {0, 2, 4, 6, 8, 10} and all(isinstance(x, int) for x in qs)
    qlog = many(distribution="q_log_uniform_values", min=1, max=1000, q=0.5)
    assert all(abs(x / 0.5 - round(x / 0.5)) < 1e-9 for x in qlog)
    normal = many(distribution="normal", mu=10, sigma=2)
    assert abs(sum(normal) / len(normal) - 10) < 0.2
    assert all(x > 0 for x in many(distribution="log_normal", mu=0, sigma=1))
    assert all(x % 3 == 0 for x in many(distribution="q_normal", mu=0, sigma=10, q=3))
    assert all(x % 5 == 0 for x in many(distribution="q_log_normal", mu=3, sigma=1, q=5))
    cat = many(values=["a", "b"], probabilities=[0.9, 0.1])
    assert 0.85 < cat.count("a") / len(cat) < 0.95
    assert set(many(value="x")) == {"x"}


def test_grid_is_every_combination_of_nested_parameters() -> None:
    got = check_config({"method": "grid", "parameters": {
        "lr": {"values": [0.1, 0.01]}, "layers": {"min": 1, "max": 3},
        "opt": {"parameters": {"name": {"values": ["adam", "sgd"]}, "m": {"value": 0.9}}}}})
    points = grid_points(got)
    assert len(points) == 2 * 3 * 2
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 12
    assert points[0] == {"lr": 0.1, "layers": 1, "opt.name": "adam", "opt.m": 0.9}
    assert set(sample(got, random.Random(1))) == {"lr", "layers", "opt.name", "opt.m"}


def _sweep(tmp_path: Path, **extra: object) -> Sweep:
    raw = {"method": "grid", "program": "train.py",
           "parameters": {"lr": {"values": [0.1]}, "flag": {"values": [False]},
                          "opt": {"parameters": {"m": {"value": 0.9}}}}, **extra}
    return Sweep.create(tmp_path / "runs", "p", check_config(raw))


def test_command_macros_expand_as_wandbs_agent_does(tmp_path: Path) -> None:
    params = {"lr": 0.1, "flag": False, "opt.m": 0.9}
    claim = Claim("t000000", 0, {"params": params, "run_id": "r1"}, tmp_path)
    assert build_command(_sweep(tmp_path), claim) == [
        "/usr/bin/env", sys.executable, "train.py", "--lr=0.1", "--flag=False", "--opt={'m': 0.9}"]
    sweep = _sweep(tmp_path, command=["${interpreter}", "-u", "${program}", "${args_no_hyphens}",
                                      "${args_json}", "${args_json_file}", "--home=${envvar:HOME}",
                                      "${args_no_boolean_flags}"])
    argv = build_command(sweep, claim)
    assert argv[:6] == [sys.executable, "-u", "train.py", "lr=0.1", "flag=False", "opt={'m': 0.9}"]
    assert json.loads(argv[6]) == {"lr": 0.1, "flag": False, "opt": {"m": 0.9}}
    assert json.loads(Path(argv[7]).read_text()) == json.loads(argv[6])
    assert argv[8].startswith("--home=/") and argv[9:] == ["--lr=0.1", "--opt={'m': 0.9}"]


def test_yaml_and_json_files_load_and_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    y = tmp_path / "sweep.yaml"
    y.write_text("method: grid\nparameters:\n  lr:\n    values: [0.1, 0.2]\n")
    assert load_config(y)["parameters"]["lr"]["values"] == [0.1, 0.2]
    (tmp_path / "bad.yaml").write_text("method: [grid\n")
    with pytest.raises(SweepConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(SweepConfigError, match="needs PyYAML"):
        load_config(y)
    j = tmp_path / "sweep.yml"
    j.write_text(json.dumps({"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}}))
    assert load_config(j)["method"] == "random"  # JSON is YAML: read without PyYAML too


def test_bayes_proposes_from_finished_trials_or_says_optuna_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("optuna")
    got = check_config({"method": "bayes", "metric": {"name": "loss"}, "parameters": {
        "x": {"min": -5.0, "max": 5.0}, "opt": {"values": ["a", "b"]}, "n": {"min": 1, "max": 4}}})
    rng = random.Random(3)
    finished: list = []
    for _ in range(30):
        p = propose_bayes(got, finished, rng)
        assert -5 <= p["x"] <= 5 and p["opt"] in ("a", "b") and p["n"] in (1, 2, 3, 4)
        finished.append((p, (p["x"] - 2) ** 2 + (p["opt"] == "b")))
    assert min(v for _, v in finished[20:]) < 0.5  # TPE has homed in on x=2, opt=a
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(SweepConfigError, match=r"needs Optuna: pip install 'runwatch\[sweeps\]'"):
        propose_bayes(got, finished, rng)


def test_import_logger_loads_no_sweep_code_until_used() -> None:
    code = ("import sys, logger; assert not [m for m in sys.modules if 'sweeps' in m]; "
            "f = logger.sweep; assert f.__module__ == 'logger.sweeps'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], env=script_env(), cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_hyperband_brackets_are_wandbs() -> None:
    assert bands({"max_iter": 27, "s": 2, "eta": 3}) == [3, 9]
    assert bands({"max_iter": 5, "s": 2, "eta": 2}) == [1, 2]  # the sweeps package's docstring
    assert bands({"min_iter": 3})[:4] == [3, 9, 27, 81]  # eta defaults to 3
