"""The agent: claim the next trial, run it (a function in-process, or the sweep's command as a
subprocess), record how it ended, repeat until the sweep is exhausted, stopped or `count` runs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..paths import new_run_id
from .command import ENV_KEYS, build_command, trial_env
from .config import SweepConfigError
from .hyperband import Hyperband
from .search import grid_points, propose_bayes, sample
from .store import Claim, Liveness, Sweep, heartbeat_interval

WAIT, DONE = "wait", "done"  # nothing to claim now / nothing left (or stopped)
MAX_FAILURES = 5  # in a row: W&B's agent also gives up after 5 failed runs at its start


class Agent:
    """One agent process working on one sweep, alongside any number of others on any hosts."""

    def __init__(self, sweep: Sweep, count: int | None = None) -> None:
        self.sweep = sweep
        self.count = count
        self.agent_id = new_run_id()
        self.interval = heartbeat_interval()
        self.liveness = Liveness(window=6 * self.interval)
        self.rng = random.Random(int.from_bytes(os.urandom(8), "big"))
        self.ran = 0
        self.failures = 0  # failed trials in a row
        self.interrupted = False
        self.gave_up: str | None = None

    # -- claiming -------------------------------------------------------------------------------
    def next_trial(self) -> Claim | str:
        """A claim won, or WAIT (trials still run elsewhere) or DONE."""
        if self.sweep.state_action() in ("stop", "cancel"):
            return DONE
        claims, results = self.sweep.claims(), self.sweep.results()
        if _target_reached(self.sweep.config.get("metric"), results):
            return DONE  # W&B: no new runs once a run reaches metric.target
        pending = [c for t, c in sorted(claims.items()) if f"{t}.g{c.gen}" not in results]
        for c in pending:  # a lapsed claim first: its agent died mid-trial
            if not self.liveness.alive(self.sweep, c):
                won = self.sweep.claim(c.trial, c.gen + 1, c.params or self._params_for(c.trial),
                                       self.agent_id)
                if won is not None:
                    return won
        won_new = self._claim_new(claims, results)
        if won_new is not None:
            return won_new
        return WAIT if pending else DONE

    def _claim_new(self, claims: dict[str, Claim], results: dict[str, Any]) -> Claim | None:
        config = self.sweep.config
        cap = config.get("run_cap")
        if config["method"] == "grid":
            for i, params in enumerate(grid_points(config)):
                if cap is not None and i >= cap:
                    break
                trial = f"t{i:06d}"
                if trial not in claims:
                    won = self.sweep.claim(trial, 0, params, self.agent_id)
                    if won is not None:
                        return won
            return None
        seq = max((int(t[1:]) + 1 for t in claims if t[1:].isdigit()), default=0)
        while cap is None or seq < cap:
            won = self.sweep.claim(f"t{seq:06d}", 0, self._propose(claims, results), self.agent_id)
            if won is not None:
                return won
            seq += 1  # another agent took that number first
        return None

    def _propose(self, claims: dict[str, Claim], results: dict[str, Any]) -> dict[str, Any]:
        config = self.sweep.config
        if config["method"] != "bayes":
            return sample(config, self.rng)
        finished = []
        for t, c in claims.items():
            value = results.get(f"{t}.g{c.gen}", {}).get("metric")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                finished.append((c.params, float(value)))
        return propose_bayes(config, finished, self.rng)

    def _params_for(self, trial: str) -> dict[str, Any]:
        """A trial whose claim could not be read: its grid point, else a fresh sample."""
        if self.sweep.config["method"] == "grid" and trial[1:].isdigit():
            return grid_points(self.sweep.config)[int(trial[1:])]
        return sample(self.sweep.config, self.rng)

    # -- the loop -------------------------------------------------------------------------------
    def run(self, trial: Callable[[Claim], dict[str, Any] | None]) -> int:
        """Run trials until DONE or `count`; returns how many this agent ran."""
        while self.count is None or self.ran < self.count:
            self.sweep.beat(self.agent_id)
            got = self.next_trial()
            if got == DONE:
                break
            if isinstance(got, str):
                time.sleep(self.interval)
                continue
            result = trial(got)
            if result is None:  # the agent itself was interrupted: the claim lapses for another
                self.interrupted = True
                break
            result["metric"] = trial_metric(self.sweep, got)
            self.sweep.record_result(got, result)
            self.ran += 1
            self.failures = self.failures + 1 if result["state"] == "failed" else 0
            if self.failures >= MAX_FAILURES and not _flapping_allowed():
                self.gave_up = (f"{MAX_FAILURES} trials in a row failed (the last with exit code "
                                f"{result['exit_code']}); fix the program and start the agent again")
                break
        return self.ran


def _flapping_allowed() -> bool:
    """W&B's WANDB_AGENT_DISABLE_FLAPPING (or RUNWATCH_AGENT_DISABLE_FLAPPING) turns the
    failures-in-a-row check off."""
    names = ("RUNWATCH_AGENT_DISABLE_FLAPPING", "WANDB_AGENT_DISABLE_FLAPPING")
    return any(os.environ.get(n, "").lower() in ("1", "true", "yes") for n in names)


def _target_reached(metric: dict[str, Any] | None, results: dict[str, Any]) -> bool:
    if not metric or not isinstance(metric.get("target"), (int, float)):
        return False
    values = [r.get("metric") for r in results.values()]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if metric.get("goal") == "maximize":
        return any(v >= metric["target"] for v in numbers)
    return any(v <= metric["target"] for v in numbers)


def trial_metric(sweep: Sweep, claim: Claim) -> Any:
    """The sweep metric's value in the trial run's summary (None when it logged none)."""
    metric = sweep.config.get("metric")
    if not metric:
        return None
    from ..reader import RootReader

    reader = RootReader(sweep.root, meta=True)  # the summary from the snapshots: no rows read
    reader.read_paths([sweep.root / sweep.project / str(claim.data.get("run_id"))])
    data = reader.runs.get(f"{sweep.project}/{claim.data.get('run_id')}")
    value = data.summary_flat().get(metric["name"]) if data is not None else None
    return value if isinstance(value, (int, float, str)) else None


# -- running a trial as a function ---------------------------------------------------------------
def run_function(agent: Agent, function: Callable[[], Any]) -> Callable[[Claim], dict[str, Any]]:
    """Call `function` in this process with the trial's environment, as W&B's agent does."""

    def trial(claim: Claim) -> dict[str, Any]:
        announce(claim, " ".join(f"{k}={v}" for k, v in claim.params.items()))
        saved = {k: os.environ.get(k) for k in ENV_KEYS}
        os.environ.update(trial_env(agent.sweep, claim))
        stop = threading.Event()
        beats = threading.Thread(target=_beat_until, args=(agent, stop), daemon=True)
        beats.start()
        code, error, returned = 0, None, False
        try:
            function()
            returned = True
        except Exception as exc:  # noqa: BLE001 - W&B's agent logs a failed trial and goes on
            code, error, returned = 1, f"{type(exc).__name__}: {exc}", True
            print(f"runwatch agent: trial {claim.trial} failed: {error}", file=sys.stderr)
        finally:  # Ctrl-C or SystemExit go on up: the run ends as a script's would, the claim lapses
            stop.set()
            if returned:
                _finish_active_run(code)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return {"state": "finished" if code == 0 else "failed", "exit_code": code, "error": error}

    return trial


def announce(claim: Claim, what: str) -> None:
    """One stderr line per trial, as W&B's "Agent Starting Run" (escaped: a shared root's
    sweep.json may hold anything)."""
    from ..textsafe import safe_text

    print(f"runwatch agent: trial {claim.trial} (run {safe_text(str(claim.data.get('run_id')))}): "
          f"{safe_text(what)}", file=sys.stderr, flush=True)


def _beat_until(agent: Agent, stop: threading.Event) -> None:
    while not stop.wait(agent.interval):
        agent.sweep.beat(agent.agent_id)


def _finish_active_run(code: int) -> None:
    """A trial function that returned without finish(): finish its run, as W&B's agent does."""
    from .. import sdk

    if sdk._active:
        sdk.finish(exit_code=code)


# -- running a trial as a command ----------------------------------------------------------------
def run_command(agent: Agent) -> Callable[[Claim], dict[str, Any] | None]:
    """Run the sweep's `command` per trial; stop it on cancel; give the claim back if we die."""
    if not agent.sweep.config.get("program") and not agent.sweep.config.get("command"):
        raise SweepConfigError("the sweep has no 'program' (or 'command') to run; add one to its "
                               "configuration, or call logger.agent(sweep_id, function=...)")

    def trial(claim: Claim) -> dict[str, Any] | None:
        argv = build_command(agent.sweep, claim)
        announce(claim, " ".join(argv))
        env = {**os.environ, **trial_env(agent.sweep, claim)}
        try:
            proc = subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent)
        except OSError as exc:  # no such program: a failed trial, as a shell's 127 would be
            print(f"runwatch agent: cannot start {argv[0] if argv else 'an empty command'}: {exc}",
                  file=sys.stderr, flush=True)
            return {"state": "failed", "exit_code": 127, "argv": argv, "error": str(exc)}
        interrupted: list[int] = []
        previous = {s: signal.signal(s, lambda sig, _f: interrupted.append(sig))
                    for s in (signal.SIGINT, signal.SIGTERM)}
        early = Hyperband(agent.sweep, claim) if agent.sweep.config.get("early_terminate") else None
        try:
            code = _wait(agent, proc, interrupted, early)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        if interrupted:
            return None
        state = "finished" if code == 0 else "killed" if code < 0 else "failed"
        if early is not None:
            early.record(early.history())  # a trial that ended still sets later thresholds
            if early.reason is not None:
                state = "stopped"
        return {"state": state, "exit_code": code, "argv": argv,
                "reason": early.reason if early is not None else None}

    return trial


def _wait(agent: Agent, proc: subprocess.Popen[bytes], interrupted: list[int],
          early: Hyperband | None) -> int:
    """Wait for the trial, beating; SIGTERM it on cancel, when this agent is interrupted, or
    when hyperband finds it behind at a band."""
    terminated = False
    while True:
        try:
            return proc.wait(timeout=agent.interval)
        except subprocess.TimeoutExpired:
            pass
        agent.sweep.beat(agent.agent_id)
        if terminated:
            continue
        if interrupted or agent.sweep.state_action() == "cancel" or (early and early.behind()):
            if early is not None and early.reason:
                print(f"runwatch agent: stopping run {early.run_dir.name}: {early.reason}",
                      file=sys.stderr, flush=True)
            proc.terminate()
            terminated = True


def _die_with_parent() -> None:
    """In the trial's child: SIGTERM when the agent dies (even SIGKILLed), so no orphan trial
    runs on beside the rerun of its claim (Linux prctl PR_SET_PDEATHSIG; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
