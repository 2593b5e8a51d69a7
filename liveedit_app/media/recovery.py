"""Turning a recording's crash-safe part file into a normal MP4, at a clean stop or after a crash.

While a take is being written its files are `<stem>.part.mkv` (Matroska, one packet per cluster,
so whatever reached the disk plays) next to a `<stem>.part.json` manifest holding the writer's
process id. A manifest whose process is gone marks an unfinished recording; `recover`
remuxes its parts (packets copied, nothing re-encoded) into `<stem>.mp4`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import av

from liveedit_app.errors import RecordingError

PART_SUFFIX = ".part.mkv"
MANIFEST_SUFFIX = ".part.json"


def part_path(final: Path) -> Path:
    return final.with_name(final.stem + PART_SUFFIX)


def final_path(part: Path) -> Path:
    return part.with_name(part.name.removesuffix(PART_SUFFIX) + ".mp4")


def write_manifest(manifest: Path, parts: list[Path], **extra) -> None:
    """Atomically (re)write the manifest that marks `parts` as being written by this process."""
    data = {"pid": os.getpid(), "parts": [p.name for p in parts], **extra}
    tmp = manifest.with_name(manifest.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, manifest)


@dataclass(frozen=True, slots=True)
class UnfinishedRecording:
    manifest: Path
    parts: tuple[Path, ...]  # the part files that exist, edited take first

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.parts)

    @property
    def name(self) -> str:
        return final_path(self.parts[0]).name if self.parts else self.manifest.name


def find_unfinished(folder: Path) -> list[UnfinishedRecording]:
    """Takes in `folder` left behind by a process that is no longer running, oldest first."""
    found = []
    for manifest in sorted(folder.glob("*" + MANIFEST_SUFFIX), key=lambda p: p.stat().st_mtime):
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError):
            data = {}
        if _process_alive(int(data.get("pid", -1))):
            continue
        names = data.get("parts") or [manifest.name.removesuffix(MANIFEST_SUFFIX) + PART_SUFFIX]
        parts = tuple(folder / n for n in names if (folder / n).is_file())
        found.append(UnfinishedRecording(manifest=manifest, parts=parts))
    return found


def recover(recording: UnfinishedRecording) -> list[Path]:
    """Remux every part into its final MP4 and remove the part files; returns the MP4s written.

    A part that cannot be remuxed is kept as `<stem>.mkv`; one with nothing in it is removed.
    """
    written = []
    for part in recording.parts:
        target = final_path(part)
        if target.exists():
            target = unused_name(target, mind_parts=False)
        try:
            remux(part, target)
            part.unlink()
            written.append(target)
        except RecordingError:
            if part.stat().st_size == 0:
                part.unlink()
                continue
            written.append(keep_as_mkv(part))
    recording.manifest.unlink(missing_ok=True)
    return written


def discard(recording: UnfinishedRecording) -> None:
    for part in recording.parts:
        part.unlink(missing_ok=True)
    recording.manifest.unlink(missing_ok=True)


def keep_as_mkv(part: Path) -> Path:
    """Rename a part file to `<stem>.mkv`, the take as written."""
    target = unused_name(final_path(part).with_suffix(".mkv"), mind_parts=False)
    os.replace(part, target)
    return target


def remux(src: Path, dst: Path) -> int:
    """Copy every packet of `src` into a new, normal (faststart) MP4 at `dst`; returns the number
    of video packets copied. Reading stops quietly at a damaged tail, as a cut-off file has one.
    The result appears at `dst` only when complete."""
    tmp = dst.with_name(f".{dst.name}.remux-{os.getpid()}.mp4")
    try:
        with av.open(str(src), mode="r") as source:
            video_packets = _copy_packets(source, tmp)
    except (av.error.FFmpegError, OSError) as err:
        tmp.unlink(missing_ok=True)
        raise RecordingError(
            f"{src.name} could not be turned into a normal MP4.", details=f"{src}: {err}"
        ) from err
    if video_packets == 0:
        tmp.unlink(missing_ok=True)
        raise RecordingError(
            f"{src.name} holds no complete picture to recover.", details=f"{src}: 0 video packets"
        )
    os.replace(tmp, dst)
    return video_packets


def _copy_packets(source: av.container.InputContainer, tmp: Path) -> int:
    streams = [s for s in source.streams if s.type in ("video", "audio")]
    if not any(s.type == "video" for s in streams):
        raise av.error.InvalidDataError(0, "no video stream")
    video_packets = 0
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in streams}
        try:
            for packet in source.demux(streams):
                if packet.dts is None or packet.size == 0:
                    continue
                packet.stream = mapping[packet.stream_index]
                out.mux(packet)
                video_packets += packet.stream.type == "video"
        except av.error.FFmpegError:
            pass  # a cut-off last fragment: everything before it is kept
    return video_packets


def unused_name(path: Path, *, mind_parts: bool = True) -> Path:
    """`path`, or `<stem> (2).mp4`, `(3)`... when it (or, with `mind_parts`, the part file of a
    take that will get that name) already exists."""
    candidate, n = path, 2
    while candidate.exists() or (mind_parts and part_path(candidate).exists()):
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        n += 1
    return candidate


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
