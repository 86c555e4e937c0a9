"""Every audit action the console writes (`audit_log.action`): one enum, so that a new action is added here
and a test finds it without a Vietnamese label. The call side writes its own (`ivr.audit.CallAuditAction`).

Values are stored: add, never rename.
"""

from __future__ import annotations

from enum import StrEnum

from ivr.audit import CallAuditAction
from ivr.review_rules import ReviewStatus


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    LISTEN_RECORDING = "listen_recording"  # a ticket's recording
    DOWNLOAD_RECORDING = "download_recording"
    SHOW_NUMBER = "show_number"  # a caller's full number
    REPLY_TICKET = "reply_ticket"
    ASSIGN_TICKET = "assign_ticket"  # category, agency, assignee, commune
    SEARCH_NUMBER = "search_number"  # tickets searched by a caller's number
    EXPORT_REPORT = "export_report"  # the monthly report downloaded
    UPLOAD_PROMPT = "upload_prompt"
    EDIT_PROMPT = "edit_prompt"
    RESTORE_PROMPT = "restore_prompt"
    EDIT_INTENT = "edit_intent"  # also a new intent (detail "<file>: new intent")
    RESTORE_INTENT = "restore_intent"
    ADD_OPERATOR = "add_operator"
    RESET_PASSWORD = "reset_password"
    DISABLE_OPERATOR = "disable_operator"
    ENABLE_OPERATOR = "enable_operator"
    LISTEN_REVIEW_AUDIO = "listen_review_audio"
    REVIEW_TAUGHT = "review_taught"
    REVIEW_OUT_OF_SCOPE = "review_out_of_scope"
    REVIEW_RECOGNITION_ERROR = "review_recognition_error"
    REVIEW_DISMISSED = "review_dismissed"
    RENDER_BULLETIN = "render_bulletin"  # a radio bulletin rendered for the editor to hear
    PUBLISH_BULLETIN = "publish_bulletin"  # released to its communes
    CONFIRM_AIRED = "confirm_aired"  # a commune operator's "aired" button
    ISSUE_DEVICE_TOKEN = "issue_device_token"  # a commune's device token made or replaced
    EXPORT_AIRING = "export_airing"  # the province's airing sheet of a bulletin downloaded
    RECORD_PROMPT = "record_prompt"  # a take from the recording studio accepted
    RECORD_READING = "record_reading"  # a bulletin's reading by a person recorded or uploaded
    RETRY_JOB = "retry_job"  # a failed background job queued again (the jobs page)


# Closing review items: the status set -> the action audited.
REVIEW_CLOSED: dict[ReviewStatus, AuditAction] = {
    ReviewStatus.OUT_OF_SCOPE: AuditAction.REVIEW_OUT_OF_SCOPE,
    ReviewStatus.RECOGNITION_ERROR: AuditAction.REVIEW_RECOGNITION_ERROR,
    ReviewStatus.DISMISSED: AuditAction.REVIEW_DISMISSED,
}

AnyAuditAction = AuditAction | CallAuditAction
ALL_AUDIT_ACTIONS: tuple[AnyAuditAction, ...] = (*AuditAction, *CallAuditAction)
