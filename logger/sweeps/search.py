"""Which parameters a trial gets: grid enumerates, random samples, bayes asks Optuna.

Sampling follows W&B's `sweeps` package: `*_values` distributions take min/max as the values
themselves, the plain log forms take them in log space; `q_*` rounds to a multiple of q.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from typing import Any

from .config import SweepConfigError, flat_params


def grid_points(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination, in a fixed order (the config's order), each flat ("outer.inner")."""
    leaves = flat_params(config["parameters"])
    names = list(leaves)
    axes = [_grid_values(leaves[n]) for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*axes)]


def _grid_values(spec: dict[str, Any]) -> list[Any]:
    dist = spec["distribution"]
    if dist == "constant":
        return [spec["value"]]
    if dist == "categorical":
        return list(spec["values"])
    if dist == "int_uniform":
        return list(range(spec["min"], spec["max"] + 1))
    q = spec.get("q", 1)  # q_uniform: min, min+q, ... up to max
    count = int(math.floor((spec["max"] - spec["min"]) / q + 1e-9)) + 1
    return [_q_round(spec["min"] + i * q, q) for i in range(count)]


def sample(config: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One random trial: every leaf parameter drawn independently."""
    return {name: draw(spec, rng) for name, spec in flat_params(config["parameters"]).items()}


def draw(spec: dict[str, Any], rng: random.Random) -> Any:
    """One value from one parameter's distribution."""
    dist = spec["distribution"]
    lo: Any = spec.get("min")
    hi: Any = spec.get("max")
    mu, sigma, q = spec.get("mu", 0.0), spec.get("sigma", 1.0), spec.get("q", 1)
    if dist == "constant":
        return spec["value"]
    if dist == "categorical":
        return rng.choices(spec["values"], weights=spec.get("probabilities"))[0]
    if dist == "int_uniform":
        return rng.randint(lo, hi)
    raw: dict[str, Any] = {
        "uniform": lambda: rng.uniform(lo, hi),
        "q_uniform": lambda: rng.uniform(lo, hi),
        "log_uniform": lambda: math.exp(rng.uniform(lo, hi)),
        "q_log_uniform": lambda: math.exp(rng.uniform(lo, hi)),
        "log_uniform_values": lambda: math.exp(rng.uniform(math.log(lo), math.log(hi))),
        "q_log_uniform_values": lambda: math.exp(rng.uniform(math.log(lo), math.log(hi))),
        "inv_log_uniform": lambda: math.exp(-rng.uniform(lo, hi)),
        "inv_log_uniform_values": lambda: 1.0 / math.exp(rng.uniform(math.log(1 / hi), math.log(1 / lo))),
        "normal": lambda: rng.gauss(mu, sigma),
        "q_normal": lambda: rng.gauss(mu, sigma),
        "log_normal": lambda: math.exp(rng.gauss(mu, sigma)),
        "q_log_normal": lambda: math.exp(rng.gauss(mu, sigma)),
    }
    value = raw[dist]()
    return _q_round(value, q) if dist.startswith("q_") else value


def _q_round(value: float, q: float) -> Any:
    """Round to a multiple of q; a whole-number q gives an int, as W&B does."""
    out = round(value / q) * q
    return int(out) if isinstance(q, int) else out


# -- bayes ------------------------------------------------------------------------------------
def propose_bayes(config: dict[str, Any], finished: Sequence[tuple[dict[str, Any], float]],
                  rng: random.Random) -> dict[str, Any]:
    """Parameters for a new trial from Optuna's TPE sampler, given the finished trials' metric."""
    try:
        import optuna
    except ImportError:
        raise SweepConfigError("method 'bayes' needs Optuna: pip install 'runwatch[sweeps]' "
                               "(or use method 'random')") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    leaves = flat_params(config["parameters"])
    dists = {name: _optuna_distribution(optuna, spec) for name, spec in leaves.items()}
    goal = config["metric"]["goal"]
    sampler = optuna.samplers.TPESampler(seed=rng.randrange(2**31))
    study = optuna.create_study(direction=goal, sampler=sampler)
    for params, value in finished:
        try:
            encoded = {n: _encode(leaves[n], params[n]) for n in dists}
            study.add_trial(optuna.trial.create_trial(params=encoded, distributions=dists, value=value))
        except (KeyError, ValueError):
            continue  # a trial from before the configuration changed, or a value out of range
    trial = study.ask(dists)
    return {name: _decode(leaves[name], trial.params[name]) for name in dists}


def _optuna_distribution(optuna: Any, spec: dict[str, Any]) -> Any:
    """The nearest Optuna distribution; the normal forms are searched over mu +- 4 sigma."""
    d = optuna.distributions
    dist = spec["distribution"]
    lo: Any = spec.get("min")
    hi: Any = spec.get("max")
    mu, sigma = spec.get("mu", 0.0), spec.get("sigma", 1.0)
    if dist == "constant":
        return d.CategoricalDistribution([0])
    if dist == "categorical":
        return d.CategoricalDistribution(list(range(len(spec["values"]))))
    if dist == "int_uniform":
        return d.IntDistribution(lo, hi)
    if dist in ("uniform", "q_uniform"):
        return d.FloatDistribution(lo, hi)
    if dist in ("log_uniform", "q_log_uniform", "inv_log_uniform"):
        lo, hi = math.exp(lo), math.exp(hi)
        return d.FloatDistribution(lo, hi, log=True)
    if dist in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        return d.FloatDistribution(lo, hi, log=True)
    if dist in ("normal", "q_normal"):
        return d.FloatDistribution(mu - 4 * sigma, mu + 4 * sigma)
    return d.FloatDistribution(math.exp(mu - 4 * sigma), math.exp(mu + 4 * sigma), log=True)


def _encode(spec: dict[str, Any], value: Any) -> Any:
    """A trial's value as Optuna sees it: categorical values by index, inv_log by reciprocal."""
    dist = spec["distribution"]
    if dist == "constant":
        return 0
    if dist == "categorical":
        return spec["values"].index(value)
    if dist == "inv_log_uniform":
        return 1.0 / value
    return value


def _decode(spec: dict[str, Any], value: Any) -> Any:
    dist = spec["distribution"]
    if dist == "constant":
        return spec["value"]
    if dist == "categorical":
        return spec["values"][value]
    if dist == "inv_log_uniform":
        return 1.0 / value
    return _q_round(value, spec.get("q", 1)) if dist.startswith("q_") else value
