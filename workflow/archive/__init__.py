"""The archive: signed documents kept write-once with their evidence, their retention
(JRWA symbol, archival category), legal holds and approved disposals, and agreements
signed before this system, imported."""
