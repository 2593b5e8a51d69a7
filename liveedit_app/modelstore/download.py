"""Opt-in model download from a Hugging Face repository: resumable, sha256-verified.

Only called when the user asks for it (`liveedit models install OWNER/NAME --download` or the
dialog's Download button). The repository must hold a `model.json` whose `files` give each file's
sha256; files are fetched with HTTP Range requests into `<name>.part` next to their final place, so
an interrupted download resumes where it stopped, and a file whose sum does not match is deleted
and refused. URLs come from `huggingface_hub.hf_hub_url` (honouring HF_ENDPOINT).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from liveedit_app.errors import CheckpointError
from liveedit_app.modelstore.card import CARD_NAME, ModelCard, sha256_file

Progress = Callable[[str, int, int | None], None]  # (file name, bytes done, bytes total)
_CHUNK = 1 << 20


class DownloadError(CheckpointError):
    """A model could not be downloaded (offline, refused, interrupted, or damaged in transit)."""


def _hash_existing(path: Path, digest) -> int:
    done = 0
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
            done += len(block)
    return done


def _open(url: str, offset: int, headers: dict[str, str], timeout: float):
    request = Request(url, headers={**headers, **({"Range": f"bytes={offset}-"} if offset else {})})
    try:
        return urlopen(request, timeout=timeout)
    except HTTPError as err:
        if err.code == 416 and offset:
            return None  # the .part file is already whole
        if err.code in (401, 403):
            raise DownloadError(
                "The model server refused the download (the model may be private or gated).",
                f"HTTP {err.code} for {url}",
            ) from err
        if err.code == 404:
            raise DownloadError(
                "The model server has no such file.", f"HTTP 404 for {url}"
            ) from err
        raise DownloadError(
            "The model server answered with an error.", f"HTTP {err.code} {url}"
        ) from err
    except (URLError, OSError) as err:
        raise DownloadError(
            "Could not reach the model server. Check the internet connection and try again.",
            f"{url}: {err}",
        ) from err


def download_file(
    url: str,
    dest: Path,
    *,
    sha256: str | None,
    size: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    progress: Progress | None = None,
) -> Path:
    """Fetch url into dest via dest.part, resuming a previous .part; verify size and sha256."""
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    digest = hashlib.sha256()
    response = _open(url, offset, headers or {}, timeout)
    if response is not None:
        with response:
            if offset and response.status != 206:
                offset = 0  # the server ignored Range: start again
            if offset:
                _hash_existing(part, digest)
            total = size
            length = response.headers.get("Content-Length")
            if total is None and length is not None:
                total = offset + int(length)
            done = offset
            try:
                with open(part, "ab" if offset else "wb") as fh:
                    while block := response.read(_CHUNK):
                        fh.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(dest.name, done, total)
            except (TimeoutError, HTTPException, OSError) as err:
                raise DownloadError(
                    "The download was interrupted. Run it again to resume where it stopped.",
                    f"{dest.name}: {done} bytes kept in {part}: {err}",
                ) from err
            if total is not None and done < total:
                raise DownloadError(
                    "The download was interrupted. Run it again to resume where it stopped.",
                    f"{dest.name}: {done} of {total} bytes kept in {part}",
                )
    else:
        _hash_existing(part, digest)
    if sha256 is not None and digest.hexdigest() != sha256.lower():
        part.unlink()
        raise DownloadError(
            f"The downloaded file {dest.name} is damaged (its checksum does not match), "
            "so it was deleted.",
            f"expected sha256 {sha256}, got {digest.hexdigest()}",
        )
    part.replace(dest)
    return dest


def _auth_headers() -> dict[str, str]:
    try:
        from huggingface_hub import get_token

        token = get_token()
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        token = None
    return {"Authorization": f"Bearer {token}"} if token else {}


def repo_file_url(repo_id: str, filename: str, revision: str, endpoint: str | None) -> str:
    from huggingface_hub import hf_hub_url

    return hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)


def download_repo(
    repo_id: str,
    folder: Path,
    *,
    revision: str = "main",
    endpoint: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
) -> ModelCard:
    """Fill `folder` with the repo's model.json and every file it lists, each sha256-verified.
    Files already complete in `folder` are checked, not fetched again."""
    folder.mkdir(parents=True, exist_ok=True)
    headers = _auth_headers()
    card_path = folder / CARD_NAME
    card_url = repo_file_url(repo_id, CARD_NAME, revision, endpoint)
    download_file(card_url, card_path, sha256=None, headers=headers, timeout=timeout)
    try:
        card = ModelCard.parse(json.loads(card_path.read_text(encoding="utf-8")), repo_id)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DownloadError("The repository's model.json is not valid JSON.", str(err)) from err
    unsummed = [f.name for f in card.files if not f.sha256]
    if not card.files or unsummed:
        raise DownloadError(
            "This repository does not list checksums for its files, so it cannot be "
            "downloaded safely.",
            f"{repo_id}: files without sha256: {unsummed or 'no files listed'}",
        )
    for spec in card.files:
        dest = folder / spec.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_file():
            if sha256_file(dest) == spec.sha256:
                continue
            dest.unlink()
        url = repo_file_url(repo_id, spec.name, revision, endpoint)
        download_file(
            url, dest, sha256=spec.sha256, size=spec.size, headers=headers,
            timeout=timeout, progress=progress,
        )  # fmt: skip
    return card
