"""What a file's own metadata declares about how it was made: AI-generation labels and Content Credentials.

Independent of every pixel detector: many generators write a declaration into the files they save, and a file that
still carries one says so plainly. Read here, without decoding any pixel:

- the IPTC digital source type ``trainedAlgorithmicMedia`` / ``compositeWithTrainedAlgorithmicMedia`` (the label
  of AI-generated and AI-edited media), wherever the file carries it: in XMP, or in a C2PA manifest;
- a C2PA manifest (Content Credentials: a JUMBF box in a JPEG APP11 segment, a PNG ``caBX`` chunk or a WebP / RIFF
  ``C2PA`` chunk). Its signature is **not** verified here; ``c2patool`` or https://contentcredentials.org/verify do
  that;
- the generation settings that Stable Diffusion front ends write into PNG text chunks (AUTOMATIC1111 / Forge /
  Fooocus ``parameters``, ComfyUI ``prompt`` / ``workflow``, InvokeAI, NovelAI);
- a generator named in the EXIF ``Software``, ``Make``, ``Model``, ``Artist`` or ``ImageDescription`` fields, or
  in an XMP credit line such as "Made with Google AI".

Metadata is easily removed (most platforms strip it on upload; the images of ``../shared/data/wild`` were re-encoded
without any) and easily forged. So a declaration is strong evidence only that somebody labelled the file, and its absence
says nothing about the image: the result never changes a detector's verdict, it is shown beside it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Union

from .explanations import exif_metadata

#: The IPTC digital source types that declare AI generation (substrings of the full vocabulary URLs).
AI_SOURCE_TYPES: tuple[str, ...] = ("compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicMedia")
#: Generator and front-end names looked for (case-insensitive, whole words) in EXIF fields and XMP credit lines.
GENERATOR_NAMES: tuple[str, ...] = (
    "midjourney", "dall-e", "dall·e", "stable diffusion", "novelai", "comfyui", "automatic1111", "invokeai",
    "fooocus", "adobe firefly", "made with google ai", "leonardo.ai", "ideogram",
)
#: PNG text keys written by Stable Diffusion front ends, with the front end that writes them.
GENERATION_TEXT_KEYS: dict[str, str] = {
    "parameters": "AUTOMATIC1111 / Forge / Fooocus generation settings",
    "prompt": "ComfyUI prompt graph",
    "workflow": "ComfyUI workflow",
    "invokeai_metadata": "InvokeAI generation settings",
    "sd-metadata": "InvokeAI generation settings",
    "dream": "InvokeAI generation settings",
    "fooocus_scheme": "Fooocus generation settings",
}
#: EXIF fields searched for generator names.
EXIF_TEXT_FIELDS: tuple[str, ...] = ("Software", "Make", "Model", "Artist", "ImageDescription")
#: Files larger than this are read only up to it (metadata sits near the start of JPEG and WebP files).
MAX_METADATA_BYTES = 64 * 2**20

_NAME_PATTERN = re.compile(r"(?<![a-z])(" + "|".join(re.escape(name) for name in GENERATOR_NAMES) + r")(?![a-z])")
_XMP_PACKET = re.compile(rb"<x:xmpmeta.*?</x:xmpmeta>", re.DOTALL)


@dataclass(frozen=True)
class Provenance:
    """What one file's metadata declares.

    Attributes:
        content_credentials: the file embeds a C2PA manifest (not verified here).
        evidence: one short line per AI declaration found, e.g.
            ``"XMP / C2PA digital source type: trainedAlgorithmicMedia"``.
    """

    content_credentials: bool
    evidence: tuple[str, ...] = ()

    @property
    def declares_ai(self) -> bool:
        """The metadata says an AI generator made or edited the image (some evidence was found)."""
        return bool(self.evidence)

    def summary(self) -> str:
        """One sentence for people: what the metadata says, and how much that is worth.

        Example:
            >>> Provenance(content_credentials=False).summary()
            'no AI label in its metadata (most files carry none, so this says nothing about the image)'
        """
        if self.declares_ai:
            return ("its metadata declares AI generation (" + "; ".join(self.evidence) + "); metadata can be "
                    "forged, but few people label a real photo this way")
        if self.content_credentials:
            return ("it carries Content Credentials (C2PA) that declare no AI generation; their signature is not "
                    "verified here (use c2patool or contentcredentials.org/verify)")
        return "no AI label in its metadata (most files carry none, so this says nothing about the image)"


def read_provenance(image: Union[str, Path, bytes]) -> Provenance:
    """Read what a file's metadata declares about AI generation; no pixel is decoded.

    Args:
        image: a file path or the file's bytes (a decoded image has lost its metadata).

    Returns:
        A :class:`Provenance`; an unreadable or non-image file gives one that declares nothing.

    Raises:
        OSError: if ``image`` is a path that cannot be read.

    Example:
        >>> read_provenance("examples/photo_real_01.jpg").declares_ai
        False
    """
    if isinstance(image, (bytes, bytearray)):
        data = bytes(image[:MAX_METADATA_BYTES])
    else:
        with open(image, "rb") as stream:
            data = stream.read(MAX_METADATA_BYTES)
    texts = png_text_chunks(data)
    xmp_packets = [packet.decode("utf-8", errors="replace") for packet in _XMP_PACKET.findall(data)]
    xmp_packets += [value for key, value in texts.items() if key == "XML:com.adobe.xmp"]  # PNG XMP, maybe compressed
    evidence = [f"XMP / C2PA digital source type: {source_type}" for source_type in AI_SOURCE_TYPES
                if source_type.encode() in data or any(source_type in packet for packet in xmp_packets)][:1]
    evidence += [f"XMP names {name!r}" for packet in xmp_packets for name in _generator_names(packet)]
    evidence += _png_text_evidence(texts)
    evidence += [f"EXIF {field} names {name!r}" for field, value in exif_metadata(data).items()
                 if field in EXIF_TEXT_FIELDS for name in _generator_names(value)]
    return Provenance(content_credentials=_has_c2pa_manifest(data), evidence=tuple(dict.fromkeys(evidence)))


def _generator_names(text: str) -> list[str]:
    return sorted(set(_NAME_PATTERN.findall(text.lower())))


def _has_c2pa_manifest(data: bytes) -> bool:
    """A C2PA manifest store: JUMBF labelled ``c2pa`` (JPEG APP11, or anywhere JUMBF sits), a PNG ``caBX`` chunk,
    or a RIFF (WebP) ``C2PA`` chunk."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return any(kind == b"caBX" for kind, _ in _png_chunks(data))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        position = 12
        while position + 8 <= len(data):
            kind, length = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
            if kind == b"C2PA":
                return True
            position += 8 + length + (length & 1)
        return False
    jumbf = data.find(b"jumb")
    return jumbf >= 0 and b"c2pa" in data[jumbf : jumbf + 256]


def png_text_chunks(data: bytes) -> dict[str, str]:
    """The text chunks (``tEXt``, ``zTXt``, ``iTXt``) of a PNG file, decompressed, from anywhere in the file.

    Read from the chunk list itself, so that no pixel is decoded; a compressed text is cut at
    :data:`MAX_TEXT_BYTES` (a crafted chunk cannot expand without bound). Not a PNG: an empty dict.

    Args:
        data: the file's bytes.

    Example:
        >>> png_text_chunks(b"not a png")
        {}
    """
    texts: dict[str, str] = {}
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return texts
    for kind, payload in _png_chunks(data):
        key, _, rest = payload.partition(b"\x00")
        try:
            if kind == b"tEXt":
                value = rest.decode("latin-1")
            elif kind == b"zTXt":
                value = _inflate(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                compressed, body = rest[:1] == b"\x01", rest[2:]
                body = body.split(b"\x00", 2)[-1]  # after the language tag and the translated keyword
                value = (_inflate(body) if compressed else body).decode("utf-8", errors="replace")
            else:
                continue
        except zlib.error:  # a damaged chunk: skipped, the rest still read
            continue
        texts[key.decode("latin-1")] = value
    return texts


#: Longest text taken from one compressed PNG chunk.
MAX_TEXT_BYTES = 4 * 2**20


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj().decompress(data, MAX_TEXT_BYTES)


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``(type, payload)`` of each chunk of a PNG file, up to IEND or the end of the data."""
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        yield kind, data[position + 8 : position + 8 + length]
        if kind == b"IEND":
            return
        position += 12 + length


def _png_text_evidence(texts: dict[str, str]) -> list[str]:
    found = []
    for key, value in texts.items():
        name, text = key.lower(), value.lower()
        # Generic words need their generator's content: ComfyUI's graph nodes, the sampler steps of the settings.
        content_required = {"prompt": "class_type", "parameters": "steps"}
        if name in GENERATION_TEXT_KEYS and content_required.get(name, "") in text:
            found.append(f"PNG text '{key}': {GENERATION_TEXT_KEYS[name]}")
        elif name in ("software", "source", "comment", "description", "author"):
            found.extend(f"PNG text '{key}' names {generator!r}" for generator in _generator_names(value))
    return found
