import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from liveedit_app.cli import main
from liveedit_app.errors import CheckpointError, ModelNotFoundError
from liveedit_app.modelstore import store as store_module
from liveedit_app.modelstore.download import DownloadError
from liveedit_app.modelstore.store import ModelStore


@pytest.fixture
def store(tmp_path):
    return ModelStore(user_dir=tmp_path / "user", shipped_dir=tmp_path / "shipped")


def test_install_from_a_folder_lists_size_vram_and_speed(store, tmp_path, make_model, weights):
    src = make_model(tmp_path / "src")
    model = store.install_folder(src)
    listed = store.list()
    assert [(m.name, m.source, m.vram_gb, m.fps) for m in listed] == [
        ("wan-test", "user", 9.5, 41.5)
    ]
    assert listed[0].size_bytes == len(weights) + 1000 + (src / "model.json").stat().st_size
    assert (model.path / "extra" / "vae.safetensors").read_bytes() == weights[:1000]
    assert store.verify("wan-test").ok
    assert json.loads((model.path / "model.json").read_text())["config"] == {"keep": "me"}


def test_a_damaged_folder_is_refused_and_leaves_nothing_behind(
    store, tmp_path, make_model, weights
):
    src = make_model(tmp_path / "src")
    (src / "dit.safetensors").write_bytes(weights[:-1] + b"\x00")
    with pytest.raises(CheckpointError, match="damaged") as info:
        store.install_folder(src)
    assert "dit.safetensors: sha256" in info.value.details
    assert store.list() == [] and list(store.user_dir.glob("*")) == []


def test_verify_names_missing_and_changed_files(store, tmp_path, make_model, weights):
    model = store.install_folder(make_model(tmp_path / "src"))
    (model.path / "dit.safetensors").write_bytes(b"x" * len(weights))
    (model.path / "extra" / "vae.safetensors").unlink()
    report = store.verify("wan-test")
    assert not report.ok
    assert {(c.name, c.status) for c in report.problems()} == {
        ("dit.safetensors", "sha256"),
        ("extra/vae.safetensors", "missing"),
    }


def test_a_weight_file_the_card_does_not_list_is_named_on_install_and_verify(
    store, tmp_path, make_model, capsys, monkeypatch
):
    src = make_model(tmp_path / "src")
    (src / "lora.safetensors").write_bytes(b"unsummed")
    monkeypatch.setattr("liveedit_app.cli.models.ModelStore", lambda: store)
    hashed = []
    real_sha = store_module.sha256_file
    monkeypatch.setattr(store_module, "sha256_file", lambda p: hashed.append(p) or real_sha(p))
    assert main(["models", "install", str(src)]) == 0
    assert "no sha256 for lora.safetensors" in capsys.readouterr().out
    installed = store.get("wan-test").path  # checked in the source and the copy, not a third time
    assert hashed and not [p for p in hashed if Path(p).is_relative_to(installed)]
    report = store.verify("wan-test")
    assert report.ok
    assert ("lora.safetensors", "unlisted") in {(c.name, c.status) for c in report.checks}
    assert main(["models", "verify", "wan-test"]) == 0
    assert "1 without a checksum" in capsys.readouterr().out


def test_user_models_shadow_shipped_ones_and_only_user_models_can_be_removed(
    store, tmp_path, make_model
):
    make_model(store.shipped_dir / "tiny", name="liveedit-tiny")
    make_model(store.shipped_dir / "wan", name="wan-test")
    store.install_folder(make_model(tmp_path / "src"))
    assert [(m.name, m.source) for m in store.list()] == [
        ("wan-test", "user"),
        ("liveedit-tiny", "shipped"),
    ]
    with pytest.raises(CheckpointError, match="ships with the app"):
        store.remove("liveedit-tiny")
    store.remove("wan-test")
    assert [(m.name, m.source) for m in store.list()] == [
        ("liveedit-tiny", "shipped"),
        ("wan-test", "shipped"),
    ]
    with pytest.raises(ModelNotFoundError):
        store.get("nope")


def test_a_second_install_of_a_name_needs_replace(store, tmp_path, make_model, weights):
    store.install_folder(make_model(tmp_path / "a"))
    with pytest.raises(CheckpointError, match="already installed"):
        store.install_folder(make_model(tmp_path / "b", weights=weights[::-1]))
    store.install_folder(tmp_path / "b", replace=True)
    assert (store.find("wan-test") / "dit.safetensors").read_bytes() == weights[::-1]


def test_a_card_naming_a_file_outside_its_folder_is_refused(store, tmp_path, make_model):
    src = make_model(tmp_path / "src")
    card = json.loads((src / "model.json").read_text())
    card["files"]["../../evil"] = {"sha256": "0" * 64}
    (src / "model.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="outside its folder"):
        store.install_folder(src)


class _Repo(BaseHTTPRequestHandler):
    """Serves /<owner>/<name>/resolve/<rev>/<file> from `root`, honouring Range; a file named in
    `cut_once` is cut off half-way the first time it is asked for."""

    root: Path
    cut_once: set
    requests: list

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.requests.append((self.path, self.headers.get("Range")))
        parts = self.path.lstrip("/").split("/", 4)
        path = self.root / parts[4] if len(parts) == 5 and parts[2] == "resolve" else None
        if path is None or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = int(self.headers["Range"][6:-1]) if self.headers.get("Range") else 0
        if start >= len(data) and start:
            self.send_error(416)
            return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if parts[4] in self.cut_once:
            self.cut_once.discard(parts[4])
            self.wfile.write(data[start : start + (len(data) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])


@pytest.fixture
def repo_server(tmp_path):
    handler = type("Handler", (_Repo,), {"root": tmp_path / "repo", "cut_once": set(),
                                         "requests": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_resumes_after_an_interruption_and_installs_verified(
    store, repo_server, make_model, weights
):
    handler, endpoint = repo_server
    make_model(handler.root)
    handler.cut_once.add("dit.safetensors")
    with pytest.raises(DownloadError, match="interrupted"):
        store.install_repo("owner/wan-test", endpoint=endpoint)
    staging = store.user_dir / ".download-owner-wan-test-main"
    part = staging / "dit.safetensors.part"
    assert part.stat().st_size == len(weights) // 2
    assert store.list() == []
    model = store.install_repo("owner/wan-test", endpoint=endpoint)
    assert (model.path / "dit.safetensors").read_bytes() == weights
    assert store.verify("wan-test").ok and not staging.exists()
    ranges = [r for p, r in handler.requests if p.endswith("/dit.safetensors")]
    assert ranges == [None, f"bytes={len(weights) // 2}-"]


def test_a_download_whose_checksum_does_not_match_is_deleted_and_refused(
    store, repo_server, make_model, weights
):
    handler, endpoint = repo_server
    make_model(handler.root)
    (handler.root / "dit.safetensors").write_bytes(weights[::-1])  # served bytes != card's sum
    with pytest.raises(DownloadError, match="damaged"):
        store.install_repo("owner/wan-test", endpoint=endpoint)
    assert not list(store.user_dir.rglob("dit.safetensors*"))
    assert store.list() == []


def test_a_repo_without_checksums_is_not_downloaded(store, repo_server, make_model, weights):
    handler, endpoint = repo_server
    make_model(handler.root)
    card = json.loads((handler.root / "model.json").read_text())
    card["files"]["dit.safetensors"] = {"bytes": len(weights)}
    (handler.root / "model.json").write_text(json.dumps(card))
    with pytest.raises(DownloadError, match="checksums"):
        store.install_repo("owner/wan-test", endpoint=endpoint)


def test_offline_download_says_the_server_cannot_be_reached(store, repo_server):
    _, endpoint = repo_server
    dead = "http://127.0.0.1:9"
    with pytest.raises(DownloadError, match="Could not reach the model server"):
        store.install_repo("owner/wan-test", endpoint=dead, timeout=2)
    assert endpoint != dead


def test_cli_install_list_verify_remove(tmp_path, capsys, make_model):
    src = make_model(tmp_path / "src")
    assert main(["models", "install", str(src)]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "wan-test" in out and "9.5 GB" in out and "41.5 fps on H100" in out
    assert main(["models", "verify"]) == 0
    assert "wan-test: ok (2 files)" in capsys.readouterr().out
    assert main(["models", "install", "owner/name"]) == 2
    assert "--download" in capsys.readouterr().err
    assert main(["models", "remove", "wan-test"]) == 0
    assert "Removed wan-test" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "wan-test" not in {m["name"] for m in listed}
    assert all(m["source"] == "shipped" for m in listed)
