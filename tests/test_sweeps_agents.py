"""Sweeps with real agent processes sharing one root: no server, claims by exclusive creation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logger.reader import RootReader
from logger.sweeps import sweep as create_sweep
from logger.sweeps import sweep_summary
from logger.sweeps.store import find_sweep

from .conftest import script_env

TRIAL = """\
import json, os, sys, time
import logger
run = logger.init()
out = os.environ["TRIAL_OUT"]
with open(os.path.join(out, run.id + ".tmp"), "w") as f:
    json.dump({"argv": sys.argv[1:], "config": dict(run.config), "sweep": run.sweep_id,
               "host": __import__("socket").gethostname()}, f)
os.replace(os.path.join(out, run.id + ".tmp"), os.path.join(out, run.id + ".json"))
while os.path.exists(os.path.join(out, "hold")):
    time.sleep(0.05)
time.sleep(float(os.environ.get("TRIAL_SLEEP", "0")))
logger.log({"loss": float(run.config.get("lr", 0))})
"""

CLI = "from tui.cli import main; raise SystemExit(main())"


def fake_host(name: str) -> str:
    """Run the CLI as if on another machine: only its host name differs."""
    return f"import socket; socket.gethostname = lambda: {name!r}; " + CLI


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "train.py").write_text(TRIAL)
    return tmp_path


def start_agent(work: Path, sweep_id: str, *extra: str, code: str = CLI, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, "agent", sweep_id, "--root", str(work / "runs"), *extra],
        cwd=work, env=script_env(TRIAL_OUT=str(work / "out"), **env), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    _out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return err


def trials(work: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((work / "out").glob("*.json"))]


def grid(work: Path, **params: dict) -> str:
    return create_sweep({"method": "grid", "program": "train.py", "metric": {"name": "loss"},
                         "parameters": params}, project="p", dir=work / "runs")


def wait_for(predicate, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_agents_run_a_grid_to_exhaustion_each_combination_once(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1, 0.01, 0.001]}, bs={"values": [16, 32]},
               opt={"parameters": {"name": {"values": ["adam", "sgd"]}}})
    agents = [start_agent(work, sid, TRIAL_SLEEP="0.3") for _ in range(2)]
    logs = [finish(a) for a in agents]
    seen = sorted(json.dumps(t["config"], sort_keys=True) for t in trials(work))
    expected = sorted(json.dumps({"lr": lr, "bs": bs, "opt": {"name": o}}, sort_keys=True)
                      for lr in (0.1, 0.01, 0.001) for bs in (16, 32) for o in ("adam", "sgd"))
    assert seen == expected  # all 12, none twice
    assert all(t["sweep"] == sid for t in trials(work))
    assert all("ran 0 trials" not in log for log in logs)  # both agents worked on it
    runs = RootReader(work / "runs")
    runs.scan()
    assert sorted(r.state for r in runs.runs.values()) == ["finished"] * 12
    results = find_sweep(work / "runs", sid).results()
    assert sorted(r["metric"] for r in results.values()) == sorted([0.1, 0.01, 0.001] * 4)


def test_a_random_sweep_stops_at_run_cap(work: Path) -> None:
    sid = create_sweep({"method": "random", "program": "train.py", "run_cap": 5, "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}}},
        project="p", dir=work / "runs")
    agents = [start_agent(work, sid) for _ in range(2)]
    for a in agents:
        finish(a)
    got = trials(work)
    assert len(got) == 5
    assert all(1e-4 <= t["config"]["lr"] <= 1e-1 for t in got)
    assert all(t["argv"] == [f"--lr={t['config']['lr']}"] for t in got)
    assert len(find_sweep(work / "runs", sid).claims()) == 5


def _held_trial(work: Path, sid: str, **agent: str) -> tuple[subprocess.Popen[str], str]:
    """An agent whose first trial is running (and held there): (the agent, the trial's run id)."""
    (work / "out" / "hold").write_text("")
    proc = start_agent(work, sid, **agent)
    wait_for(lambda: len(trials(work)) == 1)
    return proc, next((work / "out").glob("*.json")).stem


def _rerun_after_kill(work: Path, sid: str, first: dict[str, str], second: dict[str, str]) -> None:
    victim, run_id = _held_trial(work, sid, **first)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)  # EOF only once the orphaned trial has exited too
    if not first:  # same host: the dead agent's pid tells at once
        states = [t["state"] for t in sweep_summary(find_sweep(work / "runs", sid))["trials"]]
        assert states == ["lapsed"]
    (work / "out" / "hold").unlink()
    finish(start_agent(work, sid, **second))
    sweep = find_sweep(work / "runs", sid)
    claims = sweep.claims()
    assert sorted((t, c.gen) for t, c in claims.items()) == [("t000000", 1), ("t000001", 0)]
    assert sorted(sweep.results()) == ["t000000.g1", "t000001.g0"]  # the dead claim has no result
    lrs = sorted(t["config"]["lr"] for t in trials(work))
    assert lrs == [0.1, 0.1, 0.2]  # trial 0 ran twice: killed with its agent, then rerun
    wait_for(lambda: state_of(work, run_id) != "running", timeout=30)
    assert state_of(work, run_id) in ("killed", "crashed")  # the orphan died with its agent


def state_of(work: Path, run_id: str) -> str:
    reader = RootReader(work / "runs")
    reader.scan()
    return reader.runs[f"p/{run_id}"].state


def test_a_sigkilled_agents_trial_is_rerun_by_another_agent(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1, 0.2]})
    _rerun_after_kill(work, sid, {}, {})


def test_two_hosts_share_one_root(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1, 0.2, 0.3]}, bs={"values": [1, 2]})
    # Heartbeats every 0.1 s: a lapse after 0.6 s, far shorter than each 1 s trial, so a live
    # agent on the other host must never lose its claim to this one.
    agents = [start_agent(work, sid, code=fake_host(h), TRIAL_SLEEP="1", RUNWATCH_SWEEP_HEARTBEAT="0.1")
              for h in ("node-a", "node-b")]
    for a in agents:
        finish(a)
    claims = find_sweep(work / "runs", sid).claims()
    assert len(claims) == 6 and all(c.gen == 0 for c in claims.values())
    assert {c.data["host"] for c in claims.values()} == {"node-a", "node-b"}
    assert len({json.dumps(t["config"], sort_keys=True) for t in trials(work)}) == 6 == len(trials(work))


def test_an_agent_dead_on_another_host_loses_its_trial_once_its_heartbeat_stops(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1, 0.2]})
    beat = {"RUNWATCH_SWEEP_HEARTBEAT": "0.2"}
    _rerun_after_kill(work, sid, {"code": fake_host("node-b"), **beat},
                      {"code": fake_host("node-a"), **beat})


def test_wandb_docs_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    """https://docs.wandb.ai/guides/sweeps/walkthrough/, with only the import line changed."""
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent('''\
        # Import the W&B Python Library and log into W&B
        import logger as wandb

        # 1: Define objective/training function
        def objective(config):
            score = config.x**3 + config.y
            return score

        def main():
            with wandb.init(project="my-first-sweep") as run:
                score = objective(run.config)
                run.log({"score": score})

        # 2: Define the search space
        sweep_configuration = {
            "method": "random",
            "metric": {"goal": "minimize", "name": "score"},
            "parameters": {
                "x": {"max": 0.1, "min": 0.01},
                "y": {"values": [1, 3, 7]},
            },
        }

        # 3: Start the sweep
        sweep_id = wandb.sweep(sweep=sweep_configuration, project="my-first-sweep")

        wandb.agent(sweep_id, function=main, count=10)
        print(sweep_id)
        '''))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          env=script_env(RUNWATCH_DIR=str(tmp_path / "runs")), timeout=120)
    assert proc.returncode == 0, proc.stderr
    sid = proc.stdout.split()[-1]
    reader = RootReader(tmp_path / "runs")
    reader.scan()
    runs = list(reader.runs.values())
    assert len(runs) == 10 and {r.project for r in runs} == {"my-first-sweep"}
    for r in runs:
        x, y = r.config["x"], r.config["y"]
        assert 0.01 <= x <= 0.1 and y in (1, 3, 7) and r.state == "finished"
        assert r.summary_flat()["score"] == pytest.approx(x**3 + y)
    sweep = find_sweep(tmp_path / "runs", sid)
    assert {c.data["run_id"] for c in sweep.claims().values()} == {r.id for r in runs}


def test_cancel_stops_running_trials_and_resume_lets_agents_go_on(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1, 0.2, 0.3]})
    agent, run_id = _held_trial(work, sid, RUNWATCH_SWEEP_HEARTBEAT="0.1")
    cli = [sys.executable, "-c", CLI, "sweep", "--root", str(work / "runs")]
    subprocess.run([*cli, "--cancel", f"p/{sid}"], check=True, env=script_env(), timeout=60)
    finish(agent, timeout=60)  # the agent SIGTERMed its trial and took no other
    result = find_sweep(work / "runs", sid).results()["t000000.g0"]
    assert result["state"] == "killed" and result["exit_code"] == -signal.SIGTERM
    reader = RootReader(work / "runs")
    reader.scan()
    assert reader.runs[f"p/{run_id}"].state == "killed"
    (work / "out" / "hold").unlink()
    assert "ran 0 trials" in finish(start_agent(work, sid))
    subprocess.run([*cli, "--resume", sid], check=True, env=script_env(), timeout=60)
    finish(start_agent(work, sid))
    assert sorted(t["config"]["lr"] for t in trials(work)) == [0.1, 0.2, 0.3]


def test_cli_creates_a_sweep_from_yaml_and_ls_and_show_name_it(work: Path) -> None:
    pytest.importorskip("yaml")
    (work / "sweep.yaml").write_text("program: train.py\nmethod: grid\nparameters:\n"
                                     "  lr:\n    values: [0.5, 0.25]\n")
    cli = [sys.executable, "-c", CLI]
    root = ["--root", str(work / "runs")]
    made = subprocess.run([*cli, "sweep", "sweep.yaml", "--project", "p", *root], cwd=work,
                          env=script_env(), capture_output=True, text=True, timeout=60)
    sid = made.stdout.strip()
    assert made.returncode == 0 and len(sid) == 8, made.stderr
    finish(start_agent(work, sid, "--count", "1"))
    assert len(trials(work)) == 1
    ls = subprocess.run([*cli, "ls", str(work / "runs"), "--sweep", sid], env=script_env(),
                        capture_output=True, text=True, timeout=60)
    run_id = next((work / "out").glob("*.json")).stem
    assert run_id in ls.stdout and len(ls.stdout.splitlines()) == 2, ls.stderr
    show = subprocess.run([*cli, "show", f"p/{run_id}", *root], env=script_env(),
                          capture_output=True, text=True, timeout=60)
    assert f"sweep           p/{sid}" in show.stdout
    status = subprocess.run([*cli, "sweep", "--status", sid, *root], env=script_env(),
                            capture_output=True, text=True, timeout=60)
    assert "trials    1 finished" in status.stdout
    assert f"t000000.g0  finished  {run_id}" in status.stdout and "lr=0.5" in status.stdout
    (work / "bad.yaml").write_text("method: grid\nparameters:\n  lr: 0.1\n")
    bad = subprocess.run([*cli, "sweep", "bad.yaml", *root], cwd=work, env=script_env(),
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "'parameters.lr' is 0.1" in bad.stderr


CURVE = """\
import os, time
import logger
run = logger.init()
for i in range(12):
    logger.log({"loss": run.config["lr"] * (1 + 1 / (i + 1))})
    time.sleep(0.25)
"""


def test_hyperband_stops_the_trials_that_fall_behind_at_a_band(work: Path) -> None:
    (work / "train.py").write_text(CURVE)
    sid = create_sweep({"method": "grid", "program": "train.py", "metric": {"name": "loss"},
                        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 3},
                        "parameters": {"lr": {"values": [1.0, 5.0, 0.5, 10.0]}}},
                       project="p", dir=work / "runs")
    log = finish(start_agent(work, sid, RUNWATCH_SWEEP_HEARTBEAT="0.1"))
    sweep = find_sweep(work / "runs", sid)
    results = {r["trial"]: r for r in sweep.results().values()}
    assert {t: r["state"] for t, r in results.items()} == {
        "t000000": "finished", "t000001": "stopped", "t000002": "finished", "t000003": "stopped"}
    assert results["t000001"]["exit_code"] == -signal.SIGTERM
    assert "behind the band's threshold" in results["t000001"]["reason"] and "stopping run" in log
    reader = RootReader(work / "runs")
    reader.scan()
    for result in results.values():
        r = reader.runs[f"p/{result['run_id']}"]
        logged = len(r.history.columns["loss"])
        if result["state"] == "stopped":
            assert r.state == "killed" and 3 <= logged < 12  # judged at band 2: the third value
        else:
            assert r.state == "finished" and logged == 12
    show = subprocess.run([sys.executable, "-c", CLI, "show", f"p/{results['t000001']['run_id']}",
                           "--root", str(work / "runs")], env=script_env(), capture_output=True,
                          text=True, timeout=60)
    assert "sweep stopped" in show.stdout and "hyperband" in show.stdout


def test_bayes_agent_feeds_each_finished_trials_metric_back(root: Path) -> None:
    pytest.importorskip("optuna")
    import logger

    sid = logger.sweep({"method": "bayes", "metric": {"name": "loss", "goal": "minimize"},
                        "parameters": {"x": {"min": -4.0, "max": 4.0}}}, project="b")

    def train() -> None:
        run = logger.init()
        logger.log({"loss": (run.config["x"] - 1) ** 2})

    assert logger.agent(sid, function=train, count=12) == 12
    sweep = find_sweep(root, sid)
    results = sweep.results()
    assert len(results) == 12
    for t, c in sweep.claims().items():
        assert -4 <= c.params["x"] <= 4
        assert results[f"{t}.g0"]["metric"] == pytest.approx((c.params["x"] - 1) ** 2)


def test_an_agent_gives_up_after_five_failed_trials_in_a_row(work: Path) -> None:
    (work / "train.py").write_text("import logger\nlogger.init()\nraise SystemExit(3)\n")
    sid = create_sweep({"method": "random", "program": "train.py",
                        "parameters": {"lr": {"min": 0.0, "max": 1.0}}}, project="p", dir=work / "runs")
    proc = start_agent(work, sid)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "5 trials in a row failed (the last with exit code 3)" in err
    assert len(find_sweep(work / "runs", sid).results()) == 5


def test_no_new_trials_once_a_run_reaches_the_metric_target(root: Path) -> None:
    import logger

    sid = logger.sweep({"method": "grid", "metric": {"name": "loss", "goal": "maximize", "target": 3},
                        "parameters": {"v": {"values": [1, 3, 2, 5]}}}, project="t")

    def train() -> None:
        run = logger.init()
        logger.log({"loss": run.config["v"]})

    assert logger.agent(sid, function=train) == 2


def test_a_sigtermed_agent_stops_its_trial_and_gives_its_claim_back(work: Path) -> None:
    sid = grid(work, lr={"values": [0.1]})
    agent, run_id = _held_trial(work, sid, RUNWATCH_SWEEP_HEARTBEAT="0.1")
    agent.send_signal(signal.SIGTERM)  # SLURM's preemption, or Ctrl-C
    agent.communicate(timeout=60)
    assert agent.returncode == 130
    assert state_of(work, run_id) == "killed" and not find_sweep(work / "runs", sid).results()
    (work / "out" / "hold").unlink()
    finish(start_agent(work, sid))
    assert sorted(find_sweep(work / "runs", sid).results()) == ["t000000.g1"]


def test_api_sweep_reads_a_sweep_back_as_wandbs_public_api(root: Path) -> None:
    import logger

    sid = logger.sweep({"method": "grid", "metric": {"name": "val.loss"},
                        "parameters": {"v": {"values": [2, 1, 3]}}}, project="a")
    api = logger.Api()
    assert api.sweep(f"a/{sid}").state == "RUNNING" and api.sweep(sid).expected_run_count == 3

    def train() -> None:
        run = logger.init()
        logger.log({"val": {"loss": run.config["v"]}})

    logger.agent(sid, function=train)
    sweep = api.sweep(f"entity/a/{sid}")
    assert sweep.state == "FINISHED" and len(sweep.runs) == 3
    assert sweep.best_run().config["v"] == 1
    assert sweep.best_run(order="-summary_metrics.val.loss").config["v"] == 3
    logger.sweeps.control(sid, "cancel")
    assert api.sweep(sid).state == "CANCELED"


DOCS_YAML = """\
program: train.py
name: sweepdemo
method: bayes
metric:
  goal: minimize
  name: validation_loss
parameters:
  learning_rate:
    min: 0.0001
    max: 0.1
  batch_size:
    values: [16, 32, 64]
  epochs:
    values: [5, 10, 15]
  optimizer:
    values: ["adam", "sgd"]
"""

ARGPARSE_TRIAL = """\
import argparse
import logger as wandb
p = argparse.ArgumentParser()
p.add_argument("--learning_rate", type=float)
p.add_argument("--batch_size", type=int)
p.add_argument("--epochs", type=int)
p.add_argument("--optimizer")
args = p.parse_args()
run = wandb.init(config=vars(args))
wandb.log({"validation_loss": args.learning_rate * args.batch_size})
"""


def test_the_yaml_in_wandbs_docs_runs_with_the_cli(work: Path) -> None:
    """docs.wandb.ai/models/sweeps/define-sweep-configuration: its YAML, verbatim."""
    pytest.importorskip("yaml")
    pytest.importorskip("optuna")
    (work / "sweep.yaml").write_text(DOCS_YAML)
    (work / "train.py").write_text(ARGPARSE_TRIAL)
    made = subprocess.run([sys.executable, "-c", CLI, "sweep", "sweep.yaml", "--root", str(work / "runs")],
                          cwd=work, env=script_env(), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    finish(start_agent(work, made.stdout.strip(), "--count", "3"))
    reader = RootReader(work / "runs")
    reader.scan()
    runs = list(reader.runs.values())
    assert len(runs) == 3 and all(r.state == "finished" for r in runs)
    for r in runs:
        c = r.config
        assert 0.0001 <= c["learning_rate"] <= 0.1 and c["batch_size"] in (16, 32, 64)
        assert c["optimizer"] in ("adam", "sgd") and c["epochs"] in (5, 10, 15)
        assert r.summary_flat()["validation_loss"] == pytest.approx(c["learning_rate"] * c["batch_size"])


def test_a_function_agent_says_it_gave_up_and_returns_as_wandbs(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import logger

    sid = logger.sweep({"method": "random", "parameters": {"v": {"min": 0.0, "max": 1.0}}}, project="f")

    def train() -> None:
        logger.init()
        raise RuntimeError("bad program")

    assert logger.agent(sid, function=train) == 5
    err = capsys.readouterr().err
    assert "RuntimeError: bad program" in err and "5 trials in a row failed" in err
    sweep = find_sweep(root, sid)
    assert {r["state"] for r in sweep.results().values()} == {"failed"}
    reader = RootReader(root)
    reader.scan()
    assert {r.state for r in reader.runs.values()} == {"failed"}


def test_hf_trainers_wandb_search_pattern_gets_a_fresh_run_per_trial(root: Path) -> None:
    """What transformers' run_hp_search_wandb does with wandb (its default_hp_space_wandb and
    its _objective's calls), without transformers itself: under `runwatch exec` it is this."""
    import logger as wandb

    space = {"method": "random", "metric": {"name": "objective", "goal": "minimize"}, "parameters": {
        "learning_rate": {"distribution": "uniform", "min": 1e-6, "max": 1e-4},
        "num_train_epochs": {"distribution": "int_uniform", "min": 1, "max": 6},
        "seed": {"distribution": "int_uniform", "min": 1, "max": 40},
        "per_device_train_batch_size": {"values": [4, 8, 16, 32, 64]}}}
    sid = wandb.sweep(space, project=None, entity=None)
    seen = []

    def _objective() -> None:
        run = wandb.run if wandb.run else wandb.init()
        run.config.update({"assignments": {}, "metric": "objective"})
        items = dict(vars(wandb.config)["_items"])
        seen.append((run.id, run.sweep_id, items))
        wandb.log({"objective": items["learning_rate"]})

    wandb.agent(sid, function=_objective, count=3)
    assert len({run_id for run_id, _, _ in seen}) == 3 and {s for _, s, _ in seen} == {sid}
    assert all(1 <= items["num_train_epochs"] <= 6 and items["metric"] == "objective"
               for _, _, items in seen)
    best = wandb.Api().sweep(sid).best_run()
    assert best.config["learning_rate"] == min(items["learning_rate"] for _, _, items in seen)


def test_a_command_that_cannot_start_fails_its_trials_until_the_agent_gives_up(root: Path) -> None:
    import logger
    from logger.sweeps import AgentGaveUp

    sid = logger.sweep({"method": "grid", "command": ["/nonexistent/trainer", "${args}"],
                        "parameters": {"v": {"values": list(range(8))}}}, project="c")
    with pytest.raises(AgentGaveUp, match="5 trials in a row failed .*exit code 127"):
        logger.agent(sid)
    results = find_sweep(root, sid).results()
    assert len(results) == 5 and all("No such file" in r["error"] for r in results.values())
