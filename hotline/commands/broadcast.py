"""`hotline broadcast render|publish|list|prune|bundle`: commune radio segments from the command line.

Editors and commune operators use these commands: what they print, errors included, is Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as cli_errors  # typer's own (vendored) click: its refusals
from typer._click.core import Context as CliContext
from typer.core import TyperGroup

from core.cliutil import JsonOption, echo_json
from core.errors import HotlineError
from core.tempname import temp_beside
from hotline.commands import settings_of


def _fail(message: str) -> typer.Exit:
    print(f"Lỗi: {message}", file=sys.stderr)
    return typer.Exit(2)


# What the command-line arguments are, in words.
_ARGUMENTS = {"bulletin": "tệp bản tin", "commune": "tên xã, phường", "query": "từ cần tìm"}


def _usage_vi(exc: cli_errors.UsageError, ctx: CliContext) -> str:
    """click's own refusals (English) in plain Vietnamese, each with what to do."""
    command = " ".join(ctx.command_path.split()[1:]) or "broadcast"
    more = f"xem: hotline {command} --help"
    if isinstance(exc, cli_errors.MissingParameter) and exc.param is not None:
        name = exc.param.name or ""
        return f"thiếu {_ARGUMENTS.get(name, name)}; {more}"
    if "extra argument" in exc.message:  # a name with spaces typed without quotes
        return f'thừa tham số; tên có dấu cách thì đặt trong ngoặc kép, ví dụ "Đô Lương"; {more}'
    if isinstance(exc, cli_errors.NoSuchOption):
        return f"không có tùy chọn {exc.option_name}; {more}"
    if isinstance(exc, cli_errors.BadParameter) and exc.param is not None:
        name = "/".join(getattr(exc.param, "opts", []) or [exc.param.name or ""])
        return f"giá trị của {name} không dùng được; {more}"
    return f"lệnh viết chưa đúng; {more}"


class _VietnameseGroup(TyperGroup):
    """`hotline broadcast`: product errors and command-line mistakes said in Vietnamese, no traceback."""

    def invoke(self, ctx: CliContext) -> Any:
        try:
            return super().invoke(ctx)
        except cli_errors.NoArgsIsHelpError:
            raise
        except cli_errors.UsageError as exc:
            raise _fail(_usage_vi(exc, exc.ctx or ctx)) from None
        except HotlineError as exc:
            raise _fail(str(exc)) from None


def parse_day(value: str | None, option: str) -> dt.date | None:
    """A day typed on the command line: 24/11/2026 (as people write it) or 2026-11-24."""
    from broadcast.vndates import parse_vn_date

    if not value:
        return None
    try:
        day = parse_vn_date(value, with_time=False)
        return day if isinstance(day, dt.date) else dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        reason = str(exc) if "ngày" in str(exc) else f"không hiểu ngày “{value}”"
        raise HotlineError(f"{option}: {reason}; ghi ngày/tháng/năm, ví dụ {option} 24/11/2026") from None


def _vi_number(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


# Option types shared by the commands (module level: typer resolves the annotations by name).
Commune = Annotated[
    str | None, typer.Option("--commune", help="Xã, phường được chào tên riêng (ví dụ: 'Anh Sơn').")
]
Engine = Annotated[
    str | None, typer.Option("--engine", help="Bộ đọc: espeak | piper (mặc định theo cấu hình).")
]
Rate = Annotated[float | None, typer.Option("--rate", help="Tốc độ đọc (1.0: bình thường).")]
Preset = Annotated[
    str | None, typer.Option("--preset", help="Mức âm lượng: online (-16 LUFS) | broadcast (-23).")
]
Lufs = Annotated[float | None, typer.Option("--lufs", help="Âm lượng đích, LUFS (thay cho --preset).")]
Speaker = Annotated[
    bool | None,
    typer.Option("--loudspeaker/--no-loudspeaker", help="Lọc dải tần và nén cho loa nén ngoài trời."),
]
Wav = Annotated[bool | None, typer.Option("--wav/--no-wav", help="Ghi thêm bản gốc WAV.")]
Bitrate = Annotated[int | None, typer.Option("--bitrate", help="Tốc độ bit MP3, kbit/s.")]


def _options(commune, engine, rate, preset, lufs, loudspeaker, wav, bitrate):  # -> RenderOptions
    from broadcast.render import RenderOptions
    from broadcast.settings import LOUDNESS_PRESETS

    if preset is not None and preset not in LOUDNESS_PRESETS:
        raise HotlineError(
            f"--preset: không có mức âm lượng “{preset}”; chọn một trong: {', '.join(LOUDNESS_PRESETS)}"
        )
    target = lufs if lufs is not None else (LOUDNESS_PRESETS[preset] if preset else None)
    return RenderOptions(
        commune=commune,
        engine=engine,
        rate=rate,
        loudness_lufs=target,
        loudspeaker=loudspeaker,
        wav_master=wav,
        bitrate_kbps=bitrate,
    )


class _Bar:
    """A rich progress bar on stderr for long renders (silent with --json or when not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            if console.is_terminal:
                self.progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                )
        self.tasks: dict[str, Any] = {}  # stage -> rich TaskID

    def __enter__(self) -> _Bar:
        if self.progress:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress:
            self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.progress:
            return
        if stage not in self.tasks:
            label = {"speech": "đọc (câu)", "mastering": "xử lý âm thanh", "communes": "xã, phường"}.get(
                stage, stage
            )
            self.tasks[stage] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def _service(ctx: typer.Context):  # -> (Settings, BroadcastService)
    """Settings and the broadcast service on an up-to-date database."""
    from broadcast.service import BroadcastService
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    settings = settings_of(ctx)
    upgrade(settings.database_url)
    return settings, BroadcastService(settings, session_factory(engine_for(settings)))


def _print_result(info: dict, paths: list[Path], as_json: bool) -> None:
    if as_json:
        echo_json({**info, "files": [str(p) for p in paths]})
        return
    for w in info.get("warnings", []):
        typer.echo(f"Cảnh báo: {w}", err=True)
    typer.echo(f"{paths[0]}")
    typer.echo(
        f"  {_vi_number(info['duration_s'])} giây, {_vi_number(info['loudness_lufs'])} LUFS"
        f" (mục tiêu {info['loudness_target_lufs']:.0f}),"
        f" đỉnh thực {_vi_number(info['true_peak_dbtp'])} dBTP, bộ đọc {info['engine']} ({info['voice']}),"
        f" dựng trong {_vi_number(info['render_seconds'])} giây"
    )


def register(app: typer.Typer) -> None:
    bc = typer.Typer(
        help="Truyền thanh cơ sở: dựng bản tin thành MP3 sẵn sàng phát, phát hành cho các xã, phường.",
        no_args_is_help=True,
        cls=_VietnameseGroup,
    )
    app.add_typer(bc, name="broadcast")

    @bc.command("render", help="Dựng bản tin thành MP3 (kèm tệp JSON, có thể thêm WAV), chưa phát hành.")
    def render(
        ctx: typer.Context,
        bulletin: Annotated[Path, typer.Argument(help="Tệp bản tin (Markdown có phần khai báo đầu).")],
        out: Annotated[Path, typer.Option("-o", "--out", help="Thư mục ghi kết quả.")] = Path("."),
        commune: Commune = None,
        engine: Engine = None,
        rate: Rate = None,
        preset: Preset = None,
        lufs: Lufs = None,
        loudspeaker: Speaker = None,
        wav: Wav = None,
        bitrate: Bitrate = None,
        as_json: JsonOption = False,
    ) -> None:
        """Render a bulletin to MP3 (+ JSON sidecar, optional WAV) in a directory, without publishing."""
        from broadcast.bulletin import load_bulletin
        from broadcast.render import render_bulletin

        settings = settings_of(ctx)
        b = load_bulletin(bulletin, max_body_chars=settings.broadcast.max_body_chars)
        opts = _options(commune, engine, rate, preset, lufs, loudspeaker, wav, bitrate)
        with _Bar(not as_json) as bar:
            result = render_bulletin(b, settings, out, options=opts, progress=bar)
        _print_result(result.info, [p for p in (result.mp3, result.sidecar, result.wav) if p], as_json)

    @bc.command("publish", help="Dựng và phát hành bản tin (trang web, RSS); thay bản dựng trước đó.")
    def publish(
        ctx: typer.Context,
        bulletin: Annotated[Path, typer.Argument(help="Tệp bản tin (Markdown có phần khai báo đầu).")],
        commune: Commune = None,
        engine: Engine = None,
        rate: Rate = None,
        preset: Preset = None,
        lufs: Lufs = None,
        loudspeaker: Speaker = None,
        bitrate: Bitrate = None,
        each_commune: Annotated[
            bool,
            typer.Option(
                "--each-commune",
                help="Mỗi xã, phường nhận tin một bản, chào đúng tên xã (phần chung đọc một lần).",
            ),
        ] = False,
        as_json: JsonOption = False,
    ) -> None:
        """Render a bulletin and publish it (web pages, feeds); replaces an earlier render of it."""
        from broadcast.bulletin import load_bulletin

        settings, svc = _service(ctx)
        b = load_bulletin(bulletin, max_body_chars=settings.broadcast.max_body_chars)
        opts = _options(commune, engine, rate, preset, lufs, loudspeaker, None, bitrate)
        if each_commune:
            if commune:
                raise HotlineError("--each-commune: đã dựng cho từng xã, bỏ --commune")
            with _Bar(not as_json) as bar:
                segs = svc.publish_each_commune(b, opts, progress=bar)
            if as_json:
                rows = [{"id": s.id, "key": s.key, "duration_s": s.duration_s} for s in segs]
                echo_json({"segments": rows})
            else:
                own = sum(1 for s in segs if s.commune_code is not None)
                shared = " và một bản chung cho toàn tỉnh" if own < len(segs) else ""
                typer.echo(f"đã phát hành {own} bản có lời chào riêng của từng xã, phường{shared}")
            return
        with _Bar(not as_json) as bar:
            seg = svc.publish(b, opts, progress=bar)
        info = svc.sidecar_of(seg)
        if as_json:
            echo_json({"id": seg.id, "key": seg.key, **info})
        else:
            typer.echo(
                f"đã phát hành #{seg.id} {seg.key}: {_vi_number(seg.duration_s)} giây, "
                f"{_vi_number(seg.loudness_lufs)} LUFS, {_vi_number(seg.true_peak_dbtp)} dBTP "
                f"-> {svc.path_of(seg)}"
            )

    @bc.command("list", help="Các chương trình đã phát hành, mới nhất trước.")
    def list_(
        ctx: typer.Context,
        commune: Commune = None,
        query: Annotated[str, typer.Option("--search", "-q", help="Tên hoặc ngày (dd/mm/yyyy).")] = "",
        all_: Annotated[
            bool, typer.Option("--all", help="Cả chương trình hết hạn và chưa đến giờ phát hành.")
        ] = False,
        since: Annotated[str | None, typer.Option("--from", help="Bản tin từ ngày này (dd/mm/yyyy).")] = None,
        until: Annotated[str | None, typer.Option("--to", help="Bản tin đến ngày này (dd/mm/yyyy).")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """List published segments, newest first."""
        first, last = parse_day(since, "--from"), parse_day(until, "--to")
        if first and last and first > last:
            raise HotlineError(f"--from ({first:%d/%m/%Y}) sau --to ({last:%d/%m/%Y}): đổi chỗ hai ngày")
        settings, svc = _service(ctx)
        unit = svc.communes.resolve(commune) if commune else None
        segs = [
            s
            for s in svc.list_segments(unit, query, include_hidden=all_)
            if (first is None or s.bulletin_date >= first) and (last is None or s.bulletin_date <= last)
        ]
        if as_json:
            from broadcast.web import segment_json
            from core.publicurl import public_base_url

            echo_json([segment_json(svc, s, public_base_url(settings.web)) for s in segs])
            return
        from broadcast.audience import written_label
        from broadcast.bulletin import PRIORITY_LABELS_VI

        if not segs:
            typer.echo("chưa có chương trình nào")
        index = svc.communes
        for s in segs:
            own = index.by_code(s.commune_code) if s.commune_code else None
            units = [own] if own else [c for c in index.communes if c.code in (s.communes or [])]
            scope = "toàn tỉnh" if not units else written_label(units, index.province)
            label = PRIORITY_LABELS_VI.get(s.priority, s.priority)
            typer.echo(
                f"#{s.id:<4} {s.bulletin_date:%d/%m/%Y}  {label:<12} {s.duration_s:6.1f} giây  {s.title}  "
                f"[{scope}]"
            )

    @bc.command("communes", help="Các xã, phường của tỉnh với mã xã (mã người gọi bấm để nghe đài).")
    def communes(
        ctx: typer.Context,
        query: Annotated[str, typer.Argument(help="Một phần tên, ví dụ 'Anh Sơn'; bỏ trống: tất cả.")] = "",
        as_json: JsonOption = False,
    ) -> None:
        """Communes and wards of the province with their codes (keyed by callers for radio by phone, and
        the codes of ivr.commune_teams)."""
        from broadcast.communes import load_communes

        units = load_communes(settings_of(ctx).broadcast.province).search(query)
        if as_json:
            echo_json([{"code": c.code, "name": c.name} for c in units])
            return
        if not units:
            typer.echo("không có xã, phường nào phù hợp")
        for c in units:
            typer.echo(f"{c.code}  {c.name}")

    @bc.command("prune", help="Xóa các chương trình hết hạn và phần dở dang của lần dựng bị ngắt.")
    def prune(ctx: typer.Context) -> None:
        """Delete expired segments (files and catalog rows) and leftovers of interrupted renders."""
        settings, svc = _service(ctx)
        removed = svc.prune()
        for s in removed:
            typer.echo(f"đã xóa #{s.id} {s.key} (hết hạn {s.expires_at:%d/%m/%Y %H:%M} UTC)")
        typer.echo(f"đã xóa {len(removed)} chương trình hết hạn")

    @bc.command("bundle", help="Gói ngoại tuyến của một xã: các chương trình, danh sách phát M3U, lịch phát.")
    def bundle(
        ctx: typer.Context,
        commune: Annotated[str, typer.Argument(help="Xã hoặc phường, ví dụ 'Đô Lương'.")],
        out: Annotated[Path, typer.Option("-o", "--out", help="Tệp zip hoặc thư mục.")] = Path("."),
    ) -> None:
        """Offline bundle for a commune: current segments, an M3U playlist and a plain-text schedule."""
        import shutil

        settings, svc = _service(ctx)
        from broadcast.playlist import airing_order

        unit = svc.communes.resolve(commune)
        segs = airing_order(svc.list_segments(unit))
        path = svc.bundles.get(unit, segs)
        dest = out / f"truyen-thanh-{unit.slug}.zip" if out.is_dir() or str(out).endswith("/") else out
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_beside(dest)
        shutil.copyfile(path, tmp)
        tmp.replace(dest)
        typer.echo(f"{dest}: {len(segs)} chương trình cho {unit.name}")
