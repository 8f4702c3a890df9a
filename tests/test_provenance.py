"""What a file's metadata declares about AI generation (deepfake_detectors.provenance), and where it is shown."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from deepfake_detectors import read_provenance
from deepfake_detectors.provenance import MAX_TEXT_BYTES, png_text_chunks

IPTC_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _png(text: dict[str, str] | None = None, extra_chunk: tuple[bytes, bytes] | None = None) -> bytes:
    """A small PNG with the given text chunks and, before IEND, one raw extra chunk (type, payload)."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value, zip=True)  # compressed, as front ends often write them
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(buffer, format="PNG", pnginfo=info)
    data = buffer.getvalue()
    if extra_chunk is None:
        return data
    kind, payload = extra_chunk
    chunk = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    return data[:-12] + chunk + data[-12:]  # the last 12 bytes are the IEND chunk


def _jpeg(**save_options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 90, 160)).save(buffer, format="JPEG", **save_options)
    return buffer.getvalue()


def _with_app11(jpeg: bytes, payload: bytes) -> bytes:
    """Insert a JPEG APP11 segment (where C2PA puts its JUMBF manifest store) right after SOI."""
    return jpeg[:2] + b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_a_plain_camera_jpeg_declares_nothing_and_says_so_carefully() -> None:
    provenance = read_provenance("examples/photo_real_01.jpg")
    assert (provenance.declares_ai, provenance.content_credentials, provenance.evidence) == (False, False, ())
    assert "says nothing about the image" in provenance.summary()


def test_iptc_digital_source_type_in_xmp_declares_ai() -> None:
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description Iptc4xmpExt:DigitalSourceType="{IPTC_AI}" photoshop:Credit="Made with Google AI"/>'
           f"</rdf:RDF></x:xmpmeta>").encode()
    provenance = read_provenance(_jpeg(xmp=xmp))
    assert provenance.declares_ai and not provenance.content_credentials
    assert provenance.evidence == ("XMP / C2PA digital source type: trainedAlgorithmicMedia",
                                   "XMP names 'made with google ai'")
    assert "declares AI generation" in provenance.summary()


def test_c2pa_manifest_in_jpeg_app11_is_found_with_its_source_type() -> None:
    manifest = b"JP\x00\x01\x00\x00\x00\x01" + b"\x00\x00\x00\x40jumb\x00\x00\x00\x18jumdc2pa" + IPTC_AI.encode()
    provenance = read_provenance(_with_app11(_jpeg(), manifest))
    assert provenance.content_credentials and provenance.declares_ai
    unlabelled = read_provenance(_with_app11(_jpeg(), manifest.replace(IPTC_AI.encode(), b"c2pa.created")))
    assert unlabelled.content_credentials and not unlabelled.declares_ai
    assert "not verified" in unlabelled.summary()


def test_c2pa_chunks_of_png_and_webp_are_found() -> None:
    assert read_provenance(_png(extra_chunk=(b"caBX", b"\x00\x00\x00\x10jumbc2pa"))).content_credentials
    assert not read_provenance(_png(extra_chunk=(b"tIME", b"\x07\xea\x0c\x05\x00\x00\x00"))).content_credentials
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="WEBP")
    webp = buffer.getvalue()
    chunk = b"C2PA" + struct.pack("<I", 6) + b"jumb\x00\x00"
    with_manifest = b"RIFF" + struct.pack("<I", len(webp) - 8 + len(chunk)) + webp[8:] + chunk
    assert read_provenance(with_manifest).content_credentials
    assert not read_provenance(webp).content_credentials


@pytest.mark.parametrize(
    ("text", "declares"),
    [
        ({"parameters": "a red fox in snow\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"}, True),
        ({"prompt": '{"3": {"class_type": "KSampler", "inputs": {}}}', "workflow": '{"nodes": []}'}, True),
        ({"Software": "NovelAI"}, True),
        ({"parameters": "exposure=1/60 gain=2"}, False),  # a generic key without a generator's content
        ({"prompt": "remember to back up"}, False),
        ({"Software": "darktable 4.6"}, False),
    ],
)
def test_png_text_of_generation_front_ends(text: dict[str, str], declares: bool) -> None:
    assert read_provenance(_png(text)).declares_ai is declares


@pytest.mark.parametrize(("software", "declares"), [("Midjourney", True), ("DALL-E 3", True),
                                                    ("Adobe Photoshop 25.0", False), ("Imagenes del campo", False)])
def test_exif_software_names_a_generator(software: str, declares: bool) -> None:
    exif = Image.Exif()
    exif[0x0131] = software  # Software
    assert read_provenance(_jpeg(exif=exif)).declares_ai is declares


def test_non_images_declare_nothing_and_missing_files_are_an_error(tmp_path: Path) -> None:
    assert not read_provenance(b"not an image at all").declares_ai
    assert not read_provenance(b"").content_credentials
    with pytest.raises(OSError):
        read_provenance(tmp_path / "missing.jpg")


def test_png_text_is_read_from_the_chunks_compressed_xmp_included_and_bounded() -> None:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description DigitalSourceType="{IPTC_AI}"/></x:xmpmeta>'
    data = _png({"XML:com.adobe.xmp": xmp})
    assert IPTC_AI.encode() not in data  # compressed: only the decompressed chunk can show it
    assert read_provenance(data).evidence == ("XMP / C2PA digital source type: trainedAlgorithmicMedia",)
    bomb = b"comment\x00\x00" + zlib.compress(b"\x00" * 200 * 2**20, 9)  # 200 MB of zeros in a ~200 KB chunk
    texts = png_text_chunks(_png(extra_chunk=(b"zTXt", bomb)))
    assert len(texts["comment"]) == MAX_TEXT_BYTES
