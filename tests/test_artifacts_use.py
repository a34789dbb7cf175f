"""Artifacts in use: use_artifact and lineage, new_file, add_file policies, references,
link_artifact, log_model/use_model, save/wait, and one version for identical content."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import logger
from logger.artifacts import Artifact, ArtifactError
from tests.exec_support import child_env


def _dataset(tmp_path: Path, text: str = "a,b\n1,2\n") -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_use_artifact_resolves_locally_and_records_lineage(tmp_path, root):
    with logger.init(project="p", job_type="prep") as producer:
        producer.log_artifact(_dataset(tmp_path), name="data", type="dataset", aliases=["best"])
    with logger.init(project="p", job_type="train") as consumer:
        used = logger.use_artifact("data:best")  # module level, as W&B's examples do
        same = consumer.use_artifact("p/data:latest", type="dataset")
        assert used.version == same.version == "v0"
        assert Path(used.download(tmp_path / "dl")).joinpath("data.csv").read_text() == "a,b\n1,2\n"
        with pytest.raises(ArtifactError, match="type 'dataset', not 'model'"):
            consumer.use_artifact("data:v0", type="model")
        with pytest.raises(ArtifactError, match="no artifact 'nope'"):
            consumer.use_artifact("nope:latest")
    api = logger.Api(root)
    run = api.run(f"p/{consumer.id}")
    assert [a.qualified_name for a in run.used_artifacts()] == ["p/data:v0"]
    art = api.artifact("p/data:v0")
    assert [r.id for r in art.used_by()] == [consumer.id]
    assert art.logged_by().id == producer.id
    assert api.run(f"p/{producer.id}").used_artifacts() == []


def test_use_artifact_of_an_unlogged_artifact_stores_it_as_an_input(tmp_path, root):
    with logger.init(project="p") as run:
        art = Artifact("raw", "dataset", description="the raw dump", metadata={"rows": 2})
        art.add_file(_dataset(tmp_path))
        used = run.use_artifact(art)
    back = logger.Api(root).artifact("p/raw:latest")
    assert used.version == back.version == "v0"
    assert back.description == "the raw dump" and back.metadata == {"rows": 2}
    assert [r.id for r in back.used_by()] == [run.id]


def test_new_file_and_add_file_policies(tmp_path, root):
    source = _dataset(tmp_path, "first\n")
    with logger.init(project="p") as run:
        art = Artifact("bundle", "dataset")
        with art.new_file("notes.txt", mode="w") as f:
            f.write("written in place\n")
        with art.new_file("blob.bin", mode="wb") as f:
            f.write(b"\x00\x01")
        with pytest.raises(FileExistsError):
            art.new_file("notes.txt")
        art.add_file(source, name="copied.csv")  # mutable: copied now
        art.add_file(source, name="read-later.csv", policy="immutable")
        with pytest.raises(ValueError, match="policy='sometimes'"):
            art.add_file(source, policy="sometimes")
        source.write_text("second\n")
        run.log_artifact(art)
        assert art.wait() is art
    dest = Path(logger.Api(root).artifact("p/bundle:v0").download(tmp_path / "dl"))
    assert (dest / "notes.txt").read_text() == "written in place\n"
    assert (dest / "blob.bin").read_bytes() == b"\x00\x01"
    assert (dest / "copied.csv").read_text() == "first\n"
    assert (dest / "read-later.csv").read_text() == "second\n"


def test_add_reference_checksums_files_and_records_other_schemes(tmp_path, root):
    data = tmp_path / "shards"
    data.mkdir()
    (data / "0.bin").write_bytes(b"zero")
    (data / "1.bin").write_bytes(b"one")
    with logger.init(project="p") as run:
        first = Artifact("refs", "dataset").add_reference(data.as_uri(), name="shards")
        first.add_reference("s3://bucket/train.tfrecord")
        run.log_artifact(first)
        (data / "1.bin").write_bytes(b"changed")
        second = Artifact("refs", "dataset").add_reference(data.as_uri(), name="shards")
        second.add_reference("s3://bucket/train.tfrecord")
        run.log_artifact(second)
    assert (first.version, second.version) == ("v0", "v1")  # the referenced content changed
    back = logger.Api(root).artifact("p/refs:v1")
    entries = {f["name"]: f for f in back.files()}
    assert entries["train.tfrecord"] == {"name": "train.tfrecord", "ref": "s3://bucket/train.tfrecord",
                                         "digest": None, "size": None}
    assert entries["shards/1.bin"]["size"] == 7 and len(entries["shards/1.bin"]["digest"]) == 64
    dest = Path(back.download(tmp_path / "dl"))
    assert (dest / "shards" / "1.bin").read_bytes() == b"changed"
    with pytest.raises(ArtifactError, match="has changed"):
        logger.Api(root).artifact("p/refs:v0").download(tmp_path / "dl0")
    with pytest.raises(ValueError, match="give a URI"):
        Artifact("x", "y").add_reference("no-scheme")


def test_link_artifact_log_model_use_model_and_save(tmp_path, root, monkeypatch):
    monkeypatch.chdir(tmp_path)  # use_model downloads to ./artifacts/, as W&B does
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    with logger.init(project="p") as run:
        model = run.log_model(weights, name="net", aliases=["candidate"])
        linked = run.link_artifact(model, "registry/production-net", aliases=["prod"])
        assert linked.version == "v0" and "prod" in linked.aliases
        path = run.use_model("net:candidate")
        assert Path(path).read_bytes() == b"weights"
        extra = Artifact("extra", "dataset")
        extra.add_file(_dataset(tmp_path))
        extra.save()
        assert extra.version == "v0"
    api = logger.Api(root)
    assert api.artifact("registry/production-net:prod").digest == api.artifact("p/net:v0").digest
    assert [a.name for a in api.run(f"p/{run.id}").logged_artifacts()] == ["net", "extra"]
    assert [a.name for a in api.run(f"p/{run.id}").used_artifacts()] == ["net"]


WRITER = """
import os, sys, time
import logger
root, go, content = sys.argv[1], sys.argv[2], sys.argv[3]
run = logger.init(project="p", dir=root)
while not os.path.exists(go):
    time.sleep(0.001)
art = run.log_artifact(content, name="shared", type="dataset")
print(art.version)
run.finish()
"""


def test_identical_content_from_concurrent_processes_makes_one_version(tmp_path, root):
    content = tmp_path / "big.bin"
    content.write_bytes(b"x" * (8 << 20))  # hashing takes long enough for every writer to overlap
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(go), str(content)],
                              env=child_env(), stdout=subprocess.PIPE, text=True) for _ in range(6)]
    deadline = time.monotonic() + 60
    while sum(1 for _ in (root / "p").glob("*/*.rws")) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.write_text("")
    versions = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert versions == ["v0"] * 6
    assert sorted(p.name for p in (root / "p" / "artifacts" / "shared").glob("v*.json")) == ["v0.json"]
