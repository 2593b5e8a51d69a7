"""Installed models: list, find, install from a folder, verify, remove.

Two places hold models: the folder shipped with the app (read-only) and the user's data folder
(`paths.user_models_dir()`), where installs go. A user model shadows a shipped one of the same name.
An install copies into a hidden staging folder, verifies every listed file, then renames it into
place, so a half-copied model is never listed.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from liveedit_app import paths
from liveedit_app.errors import CheckpointError, ModelNotFoundError
from liveedit_app.modelstore.card import CARD_NAME, ModelCard, sha256_file
from liveedit_app.modelstore.download import Progress, download_repo

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    source: str  # "user" or "shipped"
    size_bytes: int
    card: ModelCard

    @property
    def vram_gb(self) -> float | None:
        return self.card.vram_gb

    @property
    def fps(self) -> float | None:
        return self.card.fps


@dataclass(frozen=True)
class FileCheck:
    name: str
    status: str  # "ok", "unlisted" (no sum to check), "missing", "size", "sha256"


@dataclass(frozen=True)
class VerifyReport:
    model: str
    checks: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[FileCheck]:
        return [c for c in self.checks if c.status not in ("ok", "unlisted")]


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def describe_speed(model: InstalledModel) -> str:
    """ "41.5 fps on H100" from the card's measured speed, or "not measured"."""
    fps = model.fps
    if fps is None:
        return "not measured"
    device = model.card.speed.get("device")
    return f"{fps:.1f} fps" + (f" on {device}" if device else "")


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def verify_folder(folder: Path, card: ModelCard | None = None) -> VerifyReport:
    """Check every file the card lists: present, right size, right sha256 ("unlisted": no sum,
    or a weight file the card does not list)."""
    card = card or ModelCard.read(folder)
    checks = []
    for spec in card.files:
        path = folder / spec.name
        if not path.is_file():
            checks.append(FileCheck(spec.name, "missing"))
        elif spec.size is not None and path.stat().st_size != spec.size:
            checks.append(FileCheck(spec.name, "size"))
        elif spec.sha256 is None:
            checks.append(FileCheck(spec.name, "unlisted"))
        elif sha256_file(path) != spec.sha256:
            checks.append(FileCheck(spec.name, "sha256"))
        else:
            checks.append(FileCheck(spec.name, "ok"))
    checks += [FileCheck(name, "unlisted") for name in _unlisted_weights(folder, card)]
    return VerifyReport(card.name, tuple(checks))


def _unlisted_weights(folder: Path, card: ModelCard) -> list[str]:
    """Weight files in `folder` the card says nothing of."""
    listed = {spec.name for spec in card.files}
    names = (p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*.safetensors")))
    return [name for name in names if name not in listed]


def unsummed_files(folder: Path, card: ModelCard) -> list[str]:
    """The files whose damage `verify_folder` cannot detect (no sha256 in the card, or not
    listed at all), found without reading them."""
    return [spec.name for spec in card.files if spec.sha256 is None] + _unlisted_weights(
        folder, card)


class ModelStore:
    def __init__(self, user_dir: Path | None = None, shipped_dir: Path | None = None) -> None:
        self.user_dir = Path(user_dir) if user_dir else paths.user_models_dir()
        self.shipped_dir = Path(shipped_dir) if shipped_dir else paths.shipped_models_dir()

    def _scan(self, root: Path, source: str) -> list[InstalledModel]:
        if not root.is_dir():
            return []
        found = []
        for folder in sorted(root.iterdir()):
            if folder.name.startswith(".") or not (folder / CARD_NAME).is_file():
                continue
            try:
                card = ModelCard.read(folder)
            except CheckpointError:
                continue  # an unreadable card is reported by `verify`, not by listing
            found.append(InstalledModel(card.name, folder, source, folder_size(folder), card))
        return found

    def list(self) -> list[InstalledModel]:
        """User models first; a shipped model whose name a user model took is hidden."""
        user = self._scan(self.user_dir, "user")
        taken = {m.name for m in user}
        return user + [m for m in self._scan(self.shipped_dir, "shipped") if m.name not in taken]

    def get(self, name: str) -> InstalledModel:
        for model in self.list():
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.list()) or "none"
        raise ModelNotFoundError(
            f"No installed model is called '{name}'.", f"installed models: {known}"
        )

    def find(self, name: str) -> Path:
        return self.get(name).path

    def verify(self, name: str) -> VerifyReport:
        return verify_folder(self.get(name).path)

    def install_folder(self, source: Path, *, replace: bool = False) -> InstalledModel:
        """Copy a model folder into the user's models, verified before it becomes visible."""
        source = Path(source)
        card = ModelCard.read(source)
        report = verify_folder(source, card)
        if not report.ok:
            bad = report.problems()[0]
            raise CheckpointError(
                f"The model '{card.name}' is damaged or incomplete, so it was not installed.",
                f"{bad.name}: {bad.status}",
            )
        staging = self.user_dir / f".install-{uuid.uuid4().hex}"
        try:
            shutil.copytree(source, staging)
            copied = verify_folder(staging, card)
            if not copied.ok:
                raise CheckpointError(
                    "The model changed or was damaged while it was copied.",
                    f"{copied.problems()[0]}",
                )
            return self.commit_staged(staging, card, replace=replace)
        except OSError as err:
            raise CheckpointError("The model could not be copied.", str(err)) from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def install_repo(
        self,
        repo_id: str,
        *,
        revision: str = "main",
        endpoint: str | None = None,
        progress: Progress | None = None,
        replace: bool = False,
        timeout: float = 30.0,
    ) -> InstalledModel:
        """Download a Hugging Face repository (only ever on the user's request) and install it.

        Files land in a staging folder named after the repo and revision, which an interrupted
        download leaves in place so that the next attempt resumes it."""
        if not _REPO_ID.fullmatch(repo_id):
            raise CheckpointError(
                f"'{repo_id}' is neither a model folder nor a repository name like owner/name.",
                repo_id,
            )
        staging = self.user_dir / f".download-{_folder_name(repo_id)}-{_folder_name(revision)}"
        card = download_repo(
            repo_id, staging, revision=revision, endpoint=endpoint, progress=progress,
            timeout=timeout,
        )  # fmt: skip
        return self.commit_staged(staging, card, replace=replace)

    def commit_staged(self, staging: Path, card: ModelCard, *, replace: bool) -> InstalledModel:
        """Move a verified staging folder inside user_dir to its final place (replacing an
        installed model of that name only when asked)."""
        target = self.user_dir / _folder_name(card.name)
        if target.exists():
            if not replace:
                raise CheckpointError(
                    f"A model called '{card.name}' is already installed.",
                    f"{target} exists; remove it first or install with replace",
                )
            shutil.rmtree(target)
        staging.rename(target)
        return InstalledModel(card.name, target, "user", folder_size(target), card)

    def remove(self, name: str) -> Path:
        model = self.get(name)
        if model.source != "user":
            raise CheckpointError(
                f"'{name}' ships with the app and cannot be removed.", str(model.path)
            )
        shutil.rmtree(model.path)
        return model.path


def _folder_name(name: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip(".-")
    if not safe:
        raise CheckpointError("The model card's name cannot be used as a folder name.", repr(name))
    return safe
