"""Notifications by mail: what happened to a document, to the people it concerns.

- ``mail``: compose one person's mail (Polish or English, text and HTML, proper headers)
  from the texts of ``ui_mail.po``, with the link to the document's page;
- ``smtp``: send it (``settings.mail``), or write it to the log when no server is set;
- ``delivery``: the mails of a lifecycle outbox entry, one per person, each recorded
  (``notification.sent``) so that a retried job sends nothing twice;
- ``reminders``: remind the signatory whose turn has waited too long, once per period.

The jobs that run them are in ``workflow.jobs.handlers.notify`` (this package sits just
below ``workflow.jobs`` and knows nothing of the queue).
"""
