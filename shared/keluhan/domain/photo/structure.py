"""What an upload's bytes say about themselves, read without decoding a pixel."""

from __future__ import annotations

import re

# The container formats we can verify, by their magic bytes.
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
# ISO-BMFF brands of HEIF images (HEVC-coded); AVIF shares the container but is not HEIF here.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_STRUCTURAL = frozenset({b"mif1", b"msf1"})
# Image formats we recognise only to say "unsupported" rather than "not an image".
_OTHER_IMAGES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),
    (b"\xff\x0a", "JPEGXL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEGXL"),
)

# A JPEG marker in or after entropy-coded data: 0xFF then neither a stuffed 0x00, a fill
# byte 0xFF, nor a restart marker RST0-7 (those three belong to the scan's data).
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOS, _EOI = 0xDA, 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length


def sniff_format(data: bytes) -> str | None:
    """The image format the magic bytes name ("JPEG", "PNG", "HEIF", or another's name), or None."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    if data[4:8] == b"ftyp":
        return _isobmff_format(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _OTHER_IMAGES if data.startswith(magic)), None)


def _isobmff_format(data: bytes) -> str | None:
    size = int.from_bytes(data[:4], "big")
    if not 16 <= size <= 4096 or size % 4:
        return None
    major, compatible = data[8:12], {data[i:i + 4] for i in range(16, size, 4)}
    if major in _HEIF_BRANDS or (major in _HEIF_STRUCTURAL and compatible & _HEIF_BRANDS):
        return "HEIF"
    if major in (b"avif", b"avis") or b"avif" in compatible:
        return "AVIF"
    return None


def jpeg_scan_count(data: bytes) -> int:
    """How many scans (SOS markers) the first image of a JPEG has, up to its EOI.

    Each scan of a progressive JPEG makes the decoder pass over every block of the image,
    so a small file of repeated scans costs seconds; this walk costs one regex pass.
    Segments are skipped by their length, so markers inside APPn (an EXIF thumbnail) do not
    count; bytes between segments that are no marker are skipped as libjpeg skips them; a file
    cut short counts what it has.
    """
    scans, pos, end = 0, 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            # Not a marker: libjpeg skips such bytes up to the next 0xFF (a warning, not an
            # error), so the walk does too, or 2,000 scans behind one stray byte would count as 1.
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return scans
            continue
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _EOI:
            return scans
        if marker in _STANDALONE:
            pos += 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == _SOS:
            scans += 1
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return scans
            pos = found.start()
    return scans
