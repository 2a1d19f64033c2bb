"""The mail jobs (``workflow.notifications`` does the work):

- ``notifications.notify``: the mails of one lifecycle outbox entry, one per person it
  concerns, each recorded as ``notification.sent`` once the SMTP server took it, so that a
  retry sends only what was not sent (``workflow.notifications.delivery``). SMTP down:
  the job fails and the queue retries it with backoff.
- ``notifications.remind`` (daily at 07:00 UTC; ``settings.jobs.schedules`` changes it):
  remind signatories whose turn has waited ``settings.mail.reminder_after_days``, once per
  period, each recorded as ``notification.reminder_sent``.

Without ``settings.mail.host`` the mails go to the log, records and all.
"""

from __future__ import annotations

from workflow.jobs.registry import JobContext, PermanentJobError, job
from workflow.notifications.delivery import (
    NotANotification,
    Notification,
    send_notification,
)
from workflow.notifications.mail import document_link
from workflow.notifications.reminders import send_reminders

__all__ = ["Notification", "document_link", "notify", "remind", "send_notification"]


@job("notifications.notify", retries=5, backoff_s=5.0, time_limit_s=60)
def notify(ctx: JobContext, *, entry_id: int) -> None:
    try:
        send_notification(ctx.rt, entry_id)
    except NotANotification as exc:
        raise PermanentJobError(str(exc)) from exc


@job("notifications.remind", retries=3, backoff_s=300.0, time_limit_s=1800, cron="0 7 * * *")
def remind(ctx: JobContext) -> None:
    send_reminders(ctx.rt)
