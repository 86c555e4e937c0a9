"""The script of a bulletin as it will be read, without rendering audio (the editor's preview)."""

from __future__ import annotations

from broadcast.bulletin import Bulletin
from broadcast.communes import load_communes
from broadcast.render import target_communes, template_id
from broadcast.script import Pauses, Script, build_script
from broadcast.templates import load_template


def preview_script(bulletin: Bulletin, settings, commune: str | None = None) -> Script:
    """What the render would read, with the template's opening and closing (settings: hotline Settings).

    Raises BulletinError (Vietnamese) for unknown communes, templates or nothing left to read."""
    cfg = settings.broadcast
    unit = load_communes(cfg.province).resolve(commune) if commune else None
    template = load_template(settings.path(cfg.templates_dir), template_id(bulletin, cfg))
    return build_script(
        bulletin,
        template,
        commune=unit,
        province=cfg.province,
        agency=bulletin.meta.agency or cfg.default_agency,
        pauses=Pauses(cfg.pause_sentence_ms, cfg.pause_paragraph_ms, cfg.pause_heading_ms),
        targets=target_communes(bulletin, settings),
    )
