"""The radio newsroom in the console: an editor writes or uploads a bulletin, previews the script as it
will be read, renders it with live progress, listens, then publishes it to all or chosen communes."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from broadcast.airing import bulletin_key
from broadcast.bulletin import PRIORITY_LABELS_VI, Bulletin
from broadcast.models import RenderJob, Segment
from broadcast.preview import preview_script
from broadcast.reading import SOURCE_VI, voice_vi
from broadcast.render import RenderOptions, target_communes
from broadcast.service import BroadcastService, NotFound
from broadcast.templates import available_templates, load_template
from broadcast.web import job_json
from console.audit_actions import AuditAction
from console.context import RADIO, TEMPLATES_DIR, Console
from console.data.sessions import Login
from console.deps import AnyActor, AnyCsrfLogin, AnyPageLogin, ConsoleDep
from console.radio_deps import (
    NO_BULLETIN,
    WRITERS_ONLY,
    Airings,
    Jobs,
    Radio,
    WriterCsrfLogin,
    deadline_of,
    own_commune,
    segment_for,
)
from console.radio_form import BulletinForm
from core.db import MAX_ROW_ID
from core.errors import HotlineError

router = APIRouter(include_in_schema=False)

# The job page polls its render job with this file (the console's pages allow no inline script).
JOB_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_UPLOAD_CHARS = 262_144
PRIORITIES = ("normal", "priority", "emergency")
STAGE_VI = {
    "": "Đang chờ đến lượt",
    "script": "Đang chuẩn bị lời đọc",
    "speech": "Đang đọc thành tiếng từng câu",
    "mastering": "Đang ghép nhạc hiệu, chỉnh âm lượng và nén MP3",
    "communes": "Đang dựng bản riêng cho từng xã, phường",
    "done": "Đã dựng xong",
}
SegmentId = PathParam(ge=1, le=MAX_ROW_ID)


def _stage_vi(job: RenderJob) -> str:
    """The stage in Vietnamese; a render waiting for its next attempt says so (its message)."""
    if job.status == "queued" and job.message:
        return job.message
    return STAGE_VI.get(job.stage, "Đang dựng")


@cache
def _job_script() -> str:
    return (TEMPLATES_DIR / "radio-job.js").read_text(encoding="utf-8")


def _columns(console: Console) -> list[tuple[str, str]]:
    """(template id, programme name) of every template, for the editor's choice."""
    out = []
    directory = console.settings.path(console.settings.broadcast.templates_dir)
    for template_id in available_templates(directory):
        try:
            out.append((template_id, load_template(directory, template_id).name))
        except HotlineError:  # `hotline config check` reports it; the editor just cannot pick it
            continue
    return out


def _names(radio: BroadcastService) -> dict[str, str]:
    return {str(c.code): c.name for c in radio.communes.communes}


def _newsroom(
    console: Console,
    radio: BroadcastService,
    login: Login,
    *,
    form: BulletinForm | None = None,
    error: str = "",
    script: list[str] | None = None,
    warnings: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    cfg = console.settings.broadcast
    segments = radio.list_segments(include_hidden=True)[:30]
    return console.render(
        "radio.html",
        login,
        status_code=status_code,
        page="radio",
        form=form or BulletinForm(template=cfg.default_template),
        columns=_columns(console),
        priorities=[(p, PRIORITY_LABELS_VI[p]) for p in PRIORITIES],
        communes=radio.communes.communes,
        error=error,
        script=script,
        warnings=warnings or [],
        segments=segments,
        state=_state_vi,
        max_chars=cfg.max_body_chars,
        labels=PRIORITY_LABELS_VI,
    )


def _state_vi(seg: Segment) -> str:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if seg.held:
        return "Chờ phát hành"
    if seg.publish_at is not None and seg.publish_at > now:
        return "Hẹn giờ phát hành"
    if seg.expires_at is not None and seg.expires_at <= now:
        return "Đã hết hạn"
    return "Đang phát hành"


@router.get(RADIO)
def newsroom(console: ConsoleDep, radio: Radio, login: AnyPageLogin) -> Response:
    if login.operator.role == "commune":
        return RedirectResponse(RADIO + "/xa", status_code=303)
    if not login.operator.radio_writer:
        return RedirectResponse(RADIO + "/phat-song", status_code=303)
    return _newsroom(console, radio, login)


async def _bulletin_text(
    form: BulletinForm, upload: UploadFile | None, names: dict[str, str]
) -> tuple[str, str]:
    """(Markdown, name) from the uploaded file if one was chosen, else from the form's fields."""
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_UPLOAD_CHARS + 1)
        if len(raw) > MAX_UPLOAD_CHARS:
            raise _Refused("Tệp bản tin quá lớn (tối đa 256 kB).")
        try:
            return raw.decode("utf-8"), Path(upload.filename).name
        except UnicodeDecodeError:
            raise _Refused(
                "Tệp bản tin phải là văn bản UTF-8 (lưu lại tệp với mã UTF-8 rồi tải lên)."
            ) from None
    if not form.title.strip() or not form.body.strip():
        raise _Refused("Hãy nhập tiêu đề và nội dung bản tin, hoặc chọn một tệp bản tin để tải lên.")
    return form.markdown(names), TYPED


TYPED = "Bản tin"  # the "file" of a typed bulletin, as messages name it
# "Bản tin:3: " before a message about a typed bulletin: the editor never saw those lines.
TYPED_PLACE = re.compile(rf"(^|\n\s*){TYPED}(?::\d+)?: ")


def _reason(exc: Exception, typed: bool) -> str:
    text = str(exc)
    return TYPED_PLACE.sub(r"\1", text) if typed else text


class _Refused(Exception):
    """A bulletin the page sends back with a Vietnamese reason (the form keeps what was typed)."""


def _parse(console: Console, radio: BroadcastService, text: str, name: str) -> Bulletin:
    bulletin = radio.parse(text, name)
    target_communes(bulletin, console.settings)  # unknown communes: refused now, not in the job
    return bulletin


def _form(
    title: str,
    date: str,
    template: str,
    priority: str,
    communes: list[str],
    publish: str,
    expires: str,
    deadline: str,
    body: str,
) -> BulletinForm:
    return BulletinForm(
        title=title,
        date=date,
        template=template,
        priority=priority if priority in PRIORITIES else "normal",
        communes=[c for c in communes if c.isdigit()],
        publish=publish,
        expires=expires,
        deadline=deadline,
        body=body,
    )


FormText = Form("", max_length=200)
FormBody = Form("", max_length=200_000)
NoCommunes = Form([])  # none chosen: the whole province
NoFile = File(None)


@router.post(RADIO + "/soan")
async def compose(
    console: ConsoleDep,
    radio: Radio,
    jobs: Jobs,
    login: WriterCsrfLogin,
    actor: AnyActor,
    action: str = Form("preview", max_length=16),
    title: str = FormText,
    date: str = Form("", max_length=40),
    template: str = Form("", max_length=64),
    priority: str = Form("normal", max_length=16),
    communes: list[str] = NoCommunes,
    publish: str = Form("", max_length=40),
    expires: str = Form("", max_length=40),
    deadline: str = Form("", max_length=40),
    body: str = FormBody,
    file: UploadFile | None = NoFile,
) -> Response:
    """Preview the script (action=preview) or queue the render (action=render) of the typed bulletin."""
    form = _form(title, date, template, priority, communes[:200], publish, expires, deadline, body)
    try:
        text, name = await _bulletin_text(form, file, _names(radio))
        bulletin = _parse(console, radio, text, name)
        if action != "render":
            script = preview_script(bulletin, console.settings)
            return _newsroom(
                console, radio, login, form=form, script=script.text.split("\n"), warnings=script.warnings
            )
    except (_Refused, HotlineError) as exc:
        typed = not (file is not None and file.filename)
        return _newsroom(console, radio, login, form=form, error=_reason(exc, typed), status_code=422)
    job_id = await run_in_threadpool(radio.queue_render, jobs, text, name, RenderOptions(), held=True)
    actor.record(AuditAction.RENDER_BULLETIN, f"bulletin:{bulletin.meta.title[:100]}")
    return RedirectResponse(f"{RADIO}/viec/{job_id}", status_code=303)


def _job_for(radio: BroadcastService, login: Login, job_id: str, missing: str) -> RenderJob:
    """Writers see every render job; a commune account only its own commune's readings."""
    op = login.operator
    own = own_commune(radio, login).slug if op.role == "commune" and not op.radio_writer else None
    if not op.radio_writer and own is None:
        raise HTTPException(403, WRITERS_ONLY)
    try:
        job = radio.job(job_id[:32])
    except NotFound:
        raise HTTPException(404, missing) from None
    if own is not None and job.commune != own:
        raise HTTPException(403, WRITERS_ONLY)
    return job


@router.get(RADIO + "/viec/{job_id}")
def job_page(job_id: str, console: ConsoleDep, radio: Radio, login: AnyPageLogin) -> Response:
    job = _job_for(radio, login, job_id, "Không tìm thấy lượt dựng này (có thể đã quá cũ).")
    return console.render(
        "radio_job.html",
        login,
        headers={"Content-Security-Policy": JOB_POLICY},
        page="radio",
        job=job,
        stage=_stage_vi(job),
    )


@router.get(RADIO + "/viec/{job_id}/trang-thai")
def job_status(job_id: str, radio: Radio, login: AnyPageLogin) -> JSONResponse:
    """The render job's JSON (as the API gives it) with the stage in Vietnamese, for the page's script."""
    job = _job_for(radio, login, job_id, "Không tìm thấy lượt dựng này.")
    out = job_json(job, "")
    out["stage_vi"] = _stage_vi(job)
    out["page"] = f"{RADIO}/ban-tin/{job.segment_id}" if job.segment_id else None
    return JSONResponse(out, headers={"Cache-Control": "no-store"})


@router.get(RADIO + "/tien-do.js")
def job_script() -> Response:
    return Response(_job_script(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get(RADIO + "/ban-tin/{segment_id}")
def bulletin_page(
    console: ConsoleDep,
    radio: Radio,
    airings: Airings,
    login: AnyPageLogin,
    segment_id: int = SegmentId,
    done: str = "",
) -> Response:
    seg = segment_for(radio, login, segment_id)
    sidecar = radio.sidecar_of(seg)
    codes = seg.communes
    index = radio.communes
    targets = None if codes is None else [c for c in index.communes if c.code in codes]
    own = own_commune(radio, login) if login.operator.role == "commune" else None
    aired = airings.aired(bulletin_key(seg), own.code) if own is not None else None
    return console.render(
        "radio_bulletin.html",
        login,
        page="radio",
        seg=seg,
        script=(sidecar.get("script") or "").split("\n"),
        warnings=sidecar.get("warnings", []),
        targets=targets,
        state=_state_vi(seg),
        priority_vi=PRIORITY_LABELS_VI.get(seg.priority, seg.priority),
        deadline=deadline_of(console, seg),
        own=own,
        aired=aired,
        done=done,
        voice=voice_vi(seg.engine),
        reading=sidecar.get("reading") or None,
        reading_source=SOURCE_VI,
        may_release=may_release(login, seg) and seg.held,
        may_read=login.operator.radio_writer or own is not None,
    )


@router.api_route(RADIO + "/ban-tin/{segment_id}/nghe", methods=["GET", "HEAD"])
def bulletin_audio(radio: Radio, login: AnyPageLogin, segment_id: int = SegmentId) -> Response:
    """The segment's MP3 for the console's player (held ones too, for the editor to hear)."""
    seg = segment_for(radio, login, segment_id)
    path = radio.path_of(seg)
    if not path.is_file():
        raise HTTPException(404, NO_BULLETIN)
    return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": "private, no-store"})


def may_release(login: Login, seg: Segment) -> bool:
    """Writers release any held segment; a commune account its own commune's version (its reading)."""
    op = login.operator
    return op.radio_writer or (op.role == "commune" and seg.held and seg.commune_code == op.commune_code)


@router.post(RADIO + "/ban-tin/{segment_id}/phat-hanh")
def release(radio: Radio, login: AnyCsrfLogin, actor: AnyActor, segment_id: int = SegmentId) -> Response:
    """Publish a held segment to the communes it was written for."""
    if not login.operator.radio_writer:
        seg = segment_for(radio, login, segment_id)
        if not may_release(login, seg):
            raise HTTPException(403, WRITERS_ONLY)
    try:
        seg = radio.release(segment_id)
    except NotFound:
        raise HTTPException(404, NO_BULLETIN) from None
    actor.record(AuditAction.PUBLISH_BULLETIN, f"bulletin:{seg.id}")
    return RedirectResponse(f"{RADIO}/ban-tin/{seg.id}?done=published", status_code=303)
