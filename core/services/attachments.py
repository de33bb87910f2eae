"""Attachments: files staff upload to a record (photos of a home, a builder's quote, an invoice).

What is stored is decided by the content, never by the name or the browser's content type: a PDF
must start as one and end with ``%%EOF``; an image must open and verify with Pillow as JPEG, PNG
or WebP. Images are then re-encoded without their metadata (a phone photo's EXIF carries the GPS
position of the family home) and scaled down to :data:`MAX_IMAGE_SIDE`. The original file name is
kept only for display and download, reduced to a safe base name; storage never uses it. The bytes
go into the database with the row, in the caller's transaction (see docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import threading
import unicodedata
from collections.abc import Collection
from typing import Any

from litestar.datastructures import UploadFile
from PIL import Image, ImageFile, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.context import Context
from core.errors import InvalidInput, RecordNotFound
from core.i18n import format_number
from core.i18n import gettext as _
from core.models import Attachment, AttachmentContent

MAX_BYTES = 10 * 1024 * 1024
"""The largest file accepted (10 MB: a phone photo or a scanned invoice)."""
MAX_IMAGE_SIDE = 2560
"""Images are scaled down so that their longer side is at most this many pixels."""
MAX_PIXELS = 50_000_000
"""An image claiming more pixels than this is refused before it is decoded (decompression bombs)."""

KINDS: dict[str, dict[str, str]] = {
    "image": {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"},
    "pdf": {"PDF": "application/pdf"},
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}


def uploads(data: dict[str, Any], name: str) -> list[UploadFile]:
    """The files posted under ``name`` in a multipart form (none, one or several); a file input
    left empty is dropped."""
    value = data.get(name)
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, UploadFile) and v.filename]


def store_attachment(
    ctx: Context, upload: UploadFile, *, plugin: str, field: str, allowed: Collection[str] = ("image", "pdf")
) -> Attachment:
    """Check and store one uploaded file for the current organisation (flushed, not committed).

    :raises InvalidInput: ``{field: message}`` when the file is empty, larger than
        :data:`MAX_BYTES`, or not of an ``allowed`` kind (``"image"``, ``"pdf"``) by its content.
    """
    content = upload.file.read(MAX_BYTES + 1)
    return save_attachment(
        ctx.session, ctx.org_id, filename=upload.filename, content=content, plugin=plugin,
        uploaded_by_id=ctx.user.id, allowed=allowed, field=field,
    )


def save_attachment(
    session: Session,
    org_id: int,
    *,
    filename: str,
    content: bytes,
    plugin: str,
    uploaded_by_id: int | None = None,
    allowed: Collection[str] = ("image", "pdf"),
    field: str = "file",
) -> Attachment:
    """:func:`store_attachment` from bytes (demo data, imports)."""
    if not content:
        raise InvalidInput({field: _("The file is empty.")})
    if len(content) > MAX_BYTES:
        raise InvalidInput({field: _("The file is larger than %(size)s MB.", size=format_number(MAX_BYTES // (1024 * 1024)))})
    media_type = _media_type(content, allowed)
    if media_type is None:
        raise InvalidInput({field: _not_allowed(allowed)})
    if media_type.startswith("image/"):
        try:
            content = _clean_image(content)
        except Exception:  # noqa: BLE001 - Pillow's verify() passes a cut-short JPEG; decoding it fails
            raise InvalidInput({field: _("The photo could not be read: it is damaged or incomplete. Choose the photo again.")}) from None
    attachment = Attachment(
        org_id=org_id,
        key=secrets.token_urlsafe(32),
        plugin=plugin,
        filename=safe_filename(filename, media_type),
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=uploaded_by_id,
    )
    session.add(attachment)
    session.flush()
    session.add(AttachmentContent(attachment_id=attachment.id, data=content))
    session.flush()
    return attachment


def get_attachment(ctx: Context, attachment_id: int) -> Attachment:
    """The attachment with this id in the current organisation, or :class:`RecordNotFound`."""
    attachment = ctx.session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.org_id == ctx.org_id))
    if attachment is None:
        raise RecordNotFound
    return attachment


def attachment_content(session: Session, attachment: Attachment) -> bytes:
    """The stored bytes of ``attachment``."""
    return session.scalars(select(AttachmentContent.data).where(AttachmentContent.attachment_id == attachment.id)).one()


def _not_allowed(allowed: Collection[str]) -> str:
    if set(allowed) == {"image"}:
        return _("Choose a photo (JPEG, PNG or WebP).")
    if set(allowed) == {"pdf"}:
        return _("Choose a PDF file.")
    return _("Choose a photo (JPEG, PNG or WebP) or a PDF file.")


def _media_type(content: bytes, allowed: Collection[str]) -> str | None:
    """The media type of ``content`` when it is one of the ``allowed`` kinds, else ``None``."""
    if "pdf" in allowed and content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]:
        return "application/pdf"
    if "image" not in allowed:
        return None
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in KINDS["image"] or image.width * image.height > MAX_PIXELS:
                return None
            image.verify()
            return KINDS["image"][image.format]
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file that is not an image
        return None


_TRUNCATED_FLAG = threading.Lock()


def _clean_image(content: bytes) -> bytes:
    """The image re-encoded without metadata, turned upright, and no larger than MAX_IMAGE_SIDE.

    :raises OSError: when the image is incomplete (an upload cut short). WeasyPrint sets Pillow's
        process-wide ``LOAD_TRUNCATED_IMAGES`` when it is imported (training certificates), which
        would pad such a photo with grey instead; it is off while an upload is decoded.
    """
    with _TRUNCATED_FLAG:
        before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            return _reencode(content)
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _reencode(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as original:
        fmt = original.format
        image = ImageOps.exif_transpose(original)
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        if fmt == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, fmt, **({"quality": 88} if fmt in ("JPEG", "WEBP") else {}))
        return out.getvalue()


_UNSAFE = re.compile(r"[\\/:*?\"<>|]")


def safe_filename(name: str, media_type: str) -> str:
    """A display name made from the uploaded ``name``: its last path part only, without control
    characters or characters file systems refuse, at most 120 characters, ending with the
    extension of what the file really is."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    ext = EXTENSIONS[media_type]
    stem, dot, suffix = base.rpartition(".")
    if dot and f".{suffix.lower()}" in (ext, ".jpeg" if ext == ".jpg" else ext):
        base = stem.strip(" .")
    return (base[:120] or "file") + ext
