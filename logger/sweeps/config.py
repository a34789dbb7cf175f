"""A sweep configuration as W&B documents it, checked and normalised; errors name the key at fault.

    {"method": "grid" | "random" | "bayes", "metric": {"name": ..., "goal": "minimize"},
     "parameters": {"lr": {"values": [...]}, "opt": {"parameters": {...}}}, "run_cap": N,
     "program": "train.py", "command": ["${env}", "${interpreter}", "${program}", "${args}"]}
"""

from __future__ import annotations

import math
from typing import Any

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
# distribution -> (the keys it needs, the keys it may have)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "constant": (("value",), ()),
    "categorical": (("values",), ("probabilities",)),
    "int_uniform": (("min", "max"), ()),
    "uniform": (("min", "max"), ()),
    "q_uniform": (("min", "max"), ("q",)),
    "log_uniform": (("min", "max"), ()),
    "log_uniform_values": (("min", "max"), ()),
    "q_log_uniform": (("min", "max"), ("q",)),
    "q_log_uniform_values": (("min", "max"), ("q",)),
    "inv_log_uniform": (("min", "max"), ()),
    "inv_log_uniform_values": (("min", "max"), ()),
    "normal": ((), ("mu", "sigma")),
    "q_normal": ((), ("mu", "sigma", "q")),
    "log_normal": ((), ("mu", "sigma")),
    "q_log_normal": ((), ("mu", "sigma", "q")),
}
PARAM_KEYS = {"value", "values", "distribution", "min", "max", "mu", "sigma", "q",
              "probabilities", "parameters", "description"}
TOP_KEYS = {"method", "metric", "parameters", "run_cap", "program", "command", "early_terminate",
            "name", "description", "project", "entity", "controller", "job", "image_uri"}
EARLY_TYPES = ("hyperband",)


class SweepConfigError(ValueError):
    """A sweep configuration W&B would refuse; the message names the key and what to write."""


def check_config(raw: Any) -> dict[str, Any]:
    """The configuration with every parameter's distribution made explicit, or SweepConfigError."""
    if not isinstance(raw, dict):
        raise SweepConfigError(f"a sweep configuration is a dict (or YAML mapping), not {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in TOP_KEYS)
    if unknown:
        raise SweepConfigError(f"sweep configuration: unknown key {unknown[0]!r}; "
                               f"the keys are {', '.join(sorted(TOP_KEYS))}")
    method = raw.get("method")
    if method not in METHODS:
        raise SweepConfigError(f"'method' is {method!r}: use one of {', '.join(METHODS)}")
    config = dict(raw)
    config["metric"] = _check_metric(raw.get("metric"), method)
    params = raw.get("parameters")
    if not isinstance(params, dict) or not params:
        raise SweepConfigError("'parameters' must be a mapping of parameter names to "
                               "{'values': [...]}, {'value': ...} or a distribution")
    config["parameters"] = {str(k): check_param(f"parameters.{k}", v) for k, v in params.items()}
    if method == "grid":
        for name, spec in flat_params(config["parameters"]).items():
            if spec["distribution"] not in ("constant", "categorical", "int_uniform", "q_uniform"):
                raise SweepConfigError(
                    f"'{name}': grid search needs 'values', 'value', or an int_uniform/q_uniform "
                    f"range, not distribution {spec['distribution']!r}; use method 'random' or 'bayes'")
    if "run_cap" in raw:
        cap = raw["run_cap"]
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise SweepConfigError(f"'run_cap' is {cap!r}: a whole number of runs, 1 or more")
    config["command"] = _check_command(raw.get("command"))
    if "program" in raw and not isinstance(raw["program"], str):
        raise SweepConfigError(f"'program' is {raw['program']!r}: the path of the script to run")
    if raw.get("early_terminate") is not None:
        config["early_terminate"] = _check_early(raw["early_terminate"])
        if config["metric"] is None:
            raise SweepConfigError("'early_terminate' needs 'metric': {'name': KEY, 'goal': 'minimize'}")
    return config


def _check_metric(metric: Any, method: str) -> dict[str, str] | None:
    if metric is None:
        if method == "bayes":
            raise SweepConfigError("method 'bayes' needs 'metric': {'name': KEY, 'goal': 'minimize'}")
        return None
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str) or not metric["name"]:
        raise SweepConfigError(f"'metric' is {metric!r}: write {{'name': KEY, 'goal': 'minimize'}}")
    goal = metric.get("goal", "minimize")
    if goal not in GOALS:
        raise SweepConfigError(f"'metric.goal' is {goal!r}: use 'minimize' or 'maximize'")
    out = {"name": metric["name"], "goal": goal}
    if "target" in metric:
        out["target"] = metric["target"]
    return out


def check_param(name: str, spec: Any) -> dict[str, Any]:
    """One parameter, its distribution made explicit (W&B infers it from the keys given)."""
    if not isinstance(spec, dict):
        raise SweepConfigError(f"'{name}' is {spec!r}: write {{'value': X}}, {{'values': [...]}} "
                               "or {'distribution': ..., 'min': ..., 'max': ...}")
    unknown = sorted(str(k) for k in spec if k not in PARAM_KEYS)
    if unknown:
        raise SweepConfigError(f"'{name}': unknown key {unknown[0]!r}; a parameter has "
                               f"{', '.join(sorted(PARAM_KEYS - {'description'}))}")
    if "parameters" in spec:
        inner = spec["parameters"]
        if not isinstance(inner, dict) or not inner:
            raise SweepConfigError(f"'{name}.parameters' must be a mapping of nested parameters")
        return {"parameters": {str(k): check_param(f"{name}.{k}", v) for k, v in inner.items()}}
    dist = spec.get("distribution") or _infer(name, spec)
    if dist not in DISTRIBUTIONS:
        raise SweepConfigError(f"'{name}.distribution' is {dist!r}: use one of {', '.join(DISTRIBUTIONS)}")
    needs, may = DISTRIBUTIONS[dist]
    for key in needs:
        if key not in spec:
            raise SweepConfigError(f"'{name}': distribution {dist!r} needs '{key}'")
    out: dict[str, Any] = {"distribution": dist, **{k: spec[k] for k in needs + may if k in spec}}
    _check_numbers(name, dist, out)
    return out


def _infer(name: str, spec: dict[str, Any]) -> str:
    """W&B's defaults: values -> categorical, value -> constant, int min/max -> int_uniform."""
    if "values" in spec:
        return "categorical"
    if "value" in spec:
        return "constant"
    if "min" in spec and "max" in spec:
        ints = all(isinstance(spec[k], int) and not isinstance(spec[k], bool) for k in ("min", "max"))
        return "int_uniform" if ints else "uniform"
    if "mu" in spec or "sigma" in spec:
        return "normal"
    raise SweepConfigError(f"'{name}': give 'value', 'values', 'min' and 'max', or a 'distribution'")


def _check_numbers(name: str, dist: str, spec: dict[str, Any]) -> None:
    if dist == "categorical":
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise SweepConfigError(f"'{name}.values' must be a non-empty list")
        probs = spec.get("probabilities")
        if probs is not None and (not isinstance(probs, list) or len(probs) != len(values)
                                  or not all(_number(p) and p >= 0 for p in probs)
                                  or not math.isclose(sum(probs), 1.0, abs_tol=1e-6)):
            raise SweepConfigError(f"'{name}.probabilities' must be one number >= 0 per value, summing to 1")
        return
    for key in ("min", "max", "mu", "sigma", "q"):
        if key in spec and not _number(spec[key]):
            raise SweepConfigError(f"'{name}.{key}' is {spec[key]!r}: a number")
    if "min" in spec and spec["min"] > spec["max"]:
        raise SweepConfigError(f"'{name}': min {spec['min']} is above max {spec['max']}")
    if dist == "int_uniform" and not all(isinstance(spec[k], int) for k in ("min", "max")):
        raise SweepConfigError(f"'{name}': int_uniform needs whole-number min and max")
    if dist.endswith("_values") and spec["min"] <= 0:
        raise SweepConfigError(f"'{name}': {dist} needs min above 0 (it samples on a log scale); "
                               f"got {spec['min']}")
    if spec.get("q", 1) <= 0 or spec.get("sigma", 1) <= 0:
        raise SweepConfigError(f"'{name}': 'q' and 'sigma' must be above 0")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_command(command: Any) -> list[str] | None:
    if command is None:
        return None
    if not isinstance(command, list) or not all(isinstance(c, (str, int, float)) for c in command):
        raise SweepConfigError(f"'command' is {command!r}: a list of words, e.g. "
                               "['${env}', '${interpreter}', '${program}', '${args}']")
    return [str(c) for c in command]


def _check_early(early: Any) -> dict[str, Any]:
    if not isinstance(early, dict) or early.get("type") not in EARLY_TYPES:
        raise SweepConfigError(f"'early_terminate' is {early!r}: write {{'type': 'hyperband', "
                               "'min_iter': N, 'eta': 3}}")
    if "min_iter" not in early and "max_iter" not in early:
        raise SweepConfigError("'early_terminate' (hyperband) needs 'min_iter' or 'max_iter'")
    for key in ("min_iter", "max_iter", "eta", "s"):
        value = early.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SweepConfigError(f"'early_terminate.{key}' is {value!r}: a whole number, 1 or more")
    if "min_iter" not in early and not early.get("s"):
        raise SweepConfigError("'early_terminate': max_iter needs 's', the number of brackets")
    if early.get("eta", 3) < 2:
        raise SweepConfigError("'early_terminate.eta' must be 2 or more")
    if not bands(early):
        raise SweepConfigError("'early_terminate' gives no brackets: raise max_iter or s, or lower eta")
    return dict(early)


def flat_params(params: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Nested parameters as leaves keyed "outer.inner" (W&B's nested parameters)."""
    out: dict[str, dict[str, Any]] = {}
    for key, spec in params.items():
        if "parameters" in spec:
            out.update(flat_params(spec["parameters"], f"{prefix}{key}."))
        else:
            out[prefix + key] = spec
    return out


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"opt.lr": 1} -> {"opt": {"lr": 1}}: how a trial's nested parameters reach its config."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *outer, last = key.split(".")
        node = out
        for part in outer:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def bands(early: dict[str, Any]) -> list[int]:
    """The bracket iterations W&B's hyperband uses for this `early_terminate`."""
    eta = early.get("eta", 3)
    if "max_iter" in early:
        out, band = [], float(early["max_iter"])
        for _ in range(early.get("s", 0)):
            band /= eta
            if band < 1:
                break
            out.append(int(band))
        return sorted(out)
    return [int(early["min_iter"] * eta**k) for k in range(64) if early["min_iter"] * eta**k < 2**40]
