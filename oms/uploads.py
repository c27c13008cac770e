"""Uploaded files: accepted by what they contain, never by their name or declared type.

One place for the rules every upload follows (job photos, drawn signatures, logos):
- `read_upload` refuses a file over its size limit before reading it into memory;
- `check_image` lets through only real JPEG, PNG, WebP or GIF images (Pillow opens and
  verifies the bytes; a script renamed .png, or a PNG renamed .pdf that should be a PDF,
  is refused by content), and refuses decompression bombs;
- `random_upload_name` gives the stored name: a random uuid4 under a private folder, with
  the suffix of the detected format, so a person's file name never becomes a path;
- `download_response` serves a stored file only as an attachment, with nosniff and no
  caching, so an upload can never run as a page on our domain.
Spreadsheet imports read their content in oms.imports.files (CSV or a real .xlsx only).
Files live under MEDIA_ROOT/private/ and are never served from MEDIA_URL: only views that
check the person may see the order hand them out.
"""

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse

# Pillow format name -> (content type, stored suffix)
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}
# Larger images are refused as likely decompression bombs (about 50 megapixels).
MAX_IMAGE_PIXELS = 50_000_000
NOT_AN_IMAGE = "Only photos (JPEG, PNG, WebP or GIF images) can be uploaded."


@dataclass(frozen=True)
class CheckedFile:
    """Bytes whose content passed the checks, with the type found in them."""

    data: bytes
    content_type: str
    suffix: str


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f}".removesuffix(".0") + " MB"


def ensure_size(size: int, *, limit: int, what: str = "files") -> None:
    if size > limit:
        raise ValidationError(
            f"That file is {_megabytes(size)}; {what} may be at most {_megabytes(limit)}."
        )
    if size == 0:
        raise ValidationError("The file is empty.")


def read_upload(upload: UploadedFile, *, limit: int, what: str = "files") -> bytes:
    """The upload's bytes, refused before reading when the declared size is over `limit`
    and again after (a client may under-declare)."""
    ensure_size(upload.size or 0, limit=limit, what=what)
    data = upload.read(limit + 1)
    ensure_size(len(data), limit=limit, what=what)
    return data


def check_image(
    data: bytes, *, limit: int, formats: dict[str, tuple[str, str]] = IMAGE_FORMATS
) -> CheckedFile:
    """`data` if it really is one of `formats`; ValidationError otherwise."""
    from PIL import Image, UnidentifiedImageError

    ensure_size(len(data), limit=limit, what="photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(formats)) as image:
                found = image.format or ""
                width, height = image.size
                image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise ValidationError(NOT_AN_IMAGE) from exc
    if found not in formats or width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(NOT_AN_IMAGE)
    content_type, suffix = formats[found]
    return CheckedFile(data=data, content_type=content_type, suffix=suffix)


def random_upload_name(folder: str, suffix: str = "") -> str:
    """A stored name nobody can guess or choose: private/<folder>/<uuid4><suffix>."""
    safe_suffix = suffix if suffix.startswith(".") and suffix[1:].isalnum() else ""
    return f"private/{folder.strip('/')}/{uuid.uuid4().hex}{safe_suffix.lower()[:8]}"


def download_response(handle, *, filename: str, content_type: str) -> FileResponse:
    """A stored file as a download: never rendered inline, never sniffed, never cached."""
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Even if a browser ignored the attachment, the file could run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
