"""The archive: signed documents kept write-once with their evidence, their retention
(JRWA symbol, archival category), legal holds and approved disposals, and agreements
signed before this system, imported."""

from workflow.archive.text import register_reindexer

register_reindexer()  # search.index.reindex rebuilds imported records' entries too
