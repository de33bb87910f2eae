"""Import pages: upload a file, see its dry run (every bad row), import it whole, and the history.

``POST /imports`` checks the file and keeps it as a checked batch; ``/imports/{id}`` lists its bad
rows or the rows ready; ``POST /imports/{id}/run`` imports it in one transaction. With htmx the
run button shows a progress indicator while the request runs; without JavaScript it is a plain
form post. Columns, formats and checks: docs/import.md.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import litestar
from litestar import Response
from litestar.params import FromPath
from litestar.response import Template

from core.context import Context
from core.errors import ActionRefused
from core.i18n import gettext as _
from core.models import ImportBatch
from core.services import imports
from core.services.attachments import uploads
from core.web.deps import Ctx
from core.web.forms import MultipartForm
from core.web.rendering import act, render

get = partial(litestar.get, sync_to_thread=True)
post = partial(litestar.post, sync_to_thread=True, status_code=303)


def _kinds() -> list[tuple[str, str]]:
    return [("persons", _("Persons")), ("cases", _("Cases"))]


def _index(ctx: Context, status_code: int = 200, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Template:
    return render(
        ctx, "imports/index.html", status_code, kinds=_kinds(), history=imports.history(ctx), errors=errors or {},
        values=values or {"kind": "persons"}, max_rows=imports.MAX_ROWS, max_mb=imports.MAX_BYTES // (1024 * 1024),
    )


@get("/imports", opt={"permission": "data.import"})
def import_page(ctx: Ctx) -> Template:
    """The upload form and this organisation's earlier imports."""
    return _index(ctx)


@post("/imports", opt={"permission": "data.import"})
def import_upload(ctx: Ctx, data: MultipartForm) -> Response[Any]:
    """Check an uploaded file (a dry run, nothing imported) and show what it found."""
    kind = str(data.get("kind", ""))
    values = {"kind": kind}

    def check() -> ImportBatch:
        if kind not in imports.KINDS:
            raise ActionRefused(_("Choose one of the options."), "kind")
        files = uploads(data, "file")
        if not files:
            raise ActionRefused(_("Choose a file."), "file")
        content = files[0].file.read(imports.MAX_BYTES + 1)
        return imports.check_upload(ctx, kind, files[0].filename, content)

    return act(ctx, check, lambda batch: f"/imports/{batch.id}", lambda errors: _index(ctx, 422, errors, values))


def _batch_page(ctx: Context, batch: ImportBatch, status_code: int = 200, errors: dict[str, str] | None = None) -> Template:
    checked = None
    refused = None
    if batch.status == "checked":
        try:
            checked = imports.recheck(ctx, batch)
        except ActionRefused as exc:  # kept files were readable; a later rule change may refuse one
            refused = exc.message
    return render(
        ctx, "imports/batch.html", status_code, batch=batch, checked=checked, refused=refused, errors=errors or {},
        max_listed=imports.MAX_LISTED,
    )


@get("/imports/{batch_id:int}", opt={"permission": "data.import"})
def import_batch(ctx: Ctx, batch_id: FromPath[int]) -> Template:
    """The dry run of a file: its bad rows (row, column, reason), or the rows ready to import."""
    return _batch_page(ctx, imports.get_batch(ctx, batch_id))


@post("/imports/{batch_id:int}/run", opt={"permission": "data.import"})
def import_run(ctx: Ctx, batch_id: FromPath[int]) -> Response[Any]:
    """Import a checked file: every row in one transaction, or nothing."""
    batch = imports.get_batch(ctx, batch_id)
    return act(ctx, lambda: imports.run_batch(ctx, batch), f"/imports/{batch_id}",
               lambda errors: _batch_page(ctx, imports.get_batch(ctx, batch_id), 422, errors))


ROUTES = [import_page, import_upload, import_batch, import_run]
