"""Serving attachments: only to signed-in users of the organisation that owns the file, and only
while the module the file belongs to is enabled for it; anyone else gets 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import litestar
from litestar import Response
from litestar.params import FromPath
from sqlalchemy import select

from core.errors import RecordNotFound
from core.models import Attachment, AttachmentContent
from core.web.deps import Ctx

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
"""A file's own CSP (in place of the pages'): nothing runs, nothing loads but the image itself."""


@litestar.get("/files/{key:str}", opt={"permission": "cases.view"}, sync_to_thread=True)
def attachment_file(ctx: Ctx, key: FromPath[str]) -> Response[Any]:
    attachment = ctx.session.scalar(select(Attachment).where(Attachment.key == key, Attachment.org_id == ctx.org_id))
    if attachment is None or (attachment.plugin != "core" and attachment.plugin not in ctx.user.enabled_modules):
        raise RecordNotFound
    # A photo is shown in the browser; a PDF is downloaded (opened by the reader outside the
    # app's pages). Neither is sniffed as something else or cached by a shared proxy.
    disposition = "attachment" if attachment.kind == "pdf" else "inline"
    content = ctx.session.scalar(select(AttachmentContent.data).where(AttachmentContent.attachment_id == attachment.id))
    if content is None:  # erased when its case was anonymised (core.services.privacy)
        raise RecordNotFound
    return Response(
        content,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.filename)}",
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": FILE_CSP,
        },
    )


ROUTES = [attachment_file]
