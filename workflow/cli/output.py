"""What the command line prints besides its results: exit codes, errors, logging.

Every command exits with one of the codes below. An error the application expects (a
domain error, a ``signatures`` error, a damaged blob, a file that cannot be read) is ONE
line on stderr, ``error: ...``; only a bug prints a traceback. Our errors and those of
``signatures`` are said in the user's language: ``--lang pl|en``, else ``LC_ALL`` /
``LC_MESSAGES`` / ``LANG`` (Polish unless ``en_*``). Libraries (pyHanko, its
certificate validator, certomancer, aiohttp...) log to a quiet handler unless ``-v`` is
given: their warnings about the files being validated are findings of the report, not
something for the terminal.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

from workflow import logs
from workflow.errors import EstrategiaError, RenderingFailed
from workflow.i18n import LANGUAGES, language_from_env, render_message

__all__ = [
    "EXIT_CODES_HELP",
    "Exit",
    "add_language_option",
    "add_verbose_option",
    "cli_language",
    "configuration_problem",
    "configured_logging",
    "fail",
]


class Exit(IntEnum):
    """Exit codes of ``estrategia``."""

    OK = 0
    """Done; ``verify``: the document is valid; ``audit verify``: the chain is intact."""
    CHECK_FAILED = 1
    """``verify``: not valid; ``audit verify``: the chain is broken; ``timestamps renew``:
    some documents could not be renewed; ``archive import DIR``: some files failed."""
    REFUSED = 2
    """Wrong arguments, configuration or input: a missing or unreadable file, a PDF that
    cannot be read, invalid data, no demo PKI yet."""
    UNAVAILABLE = 3
    """A service did not answer (TSA, OCSP/CRL, remote signer, LibreOffice): nothing was
    changed; try again later."""
    DAMAGED = 4
    """Stored data is damaged (a stored file does not match its hash)."""
    BUG = 70
    """An unexpected error: a bug (the traceback is printed; please report it)."""


EXIT_CODES_HELP = """\
exit codes:
  0  done (verify: valid; audit verify: chain intact; archive verify: intact)
  1  the check failed (verify: not valid; audit verify: chain broken;
     archive verify: problems found; timestamps renew: some documents not
     renewed; archive import DIR: some files failed)
  2  refused: wrong arguments, configuration or input (missing or unreadable
     file, a PDF that cannot be read, invalid data)
  3  a service did not answer (TSA, OCSP/CRL, remote signer, LibreOffice):
     nothing changed, try again later
  4  stored data is damaged (a stored file does not match its hash)
  70 a bug: the traceback is printed
"""


class _OneLineFormatter(logging.Formatter):
    """``level name: message`` on one line: no traceback, whatever the record carries."""

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().split())
        return f"{record.levelname.lower()}: {record.name}: {message}"


@contextmanager
def configured_logging(*, verbose: bool) -> Iterator[None]:
    """Quiet by default: our own warnings as one line each on stderr, libraries silent.
    ``verbose``: everything from INFO up, libraries included, with tracebacks.

    ``workflow.logs`` does it (the one setup of the CLI, ``serve`` and ``worker``); undone
    on exit, so that ``main()`` called in-process (tests) leaves logging as it was.
    ``ESTRATEGIA_LOG_FORMAT=json`` switches to JSON lines once the settings are read.
    """
    if verbose:
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    else:
        formatter = _OneLineFormatter()
    with logs.configured_logging(verbose=verbose, formatter=formatter):
        yield


def add_verbose_option(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``-v/--verbose`` on ``parser``. Below the top level it defaults to "not given", so
    ``estrategia -v verify x.pdf`` and ``estrategia verify -v x.pdf`` both work."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="also show the log of the libraries (pyHanko...), with tracebacks",
    )


def add_language_option(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``--lang pl|en`` on ``parser``, placed like ``-v`` (see ``add_verbose_option``)."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None if top_level else argparse.SUPPRESS,
        help="language of the messages (default: from LC_ALL/LC_MESSAGES/LANG; Polish unless en_*)",
    )


def cli_language(args: argparse.Namespace | None = None) -> str:
    """The language of the messages: ``--lang`` if given, else from the environment."""
    chosen = getattr(args, "lang", None)
    return chosen if chosen in LANGUAGES else language_from_env(os.environ)


def configuration_problem(exc: ValueError) -> str:
    """What is wrong in the ``ESTRATEGIA_`` variables, in one line, by variable name."""
    from pydantic import ValidationError

    from workflow.config import ENVIRONMENT

    if not isinstance(exc, ValidationError):
        return _one_line(exc)
    names = {place: name for name, place in ENVIRONMENT.items()}
    return "; ".join(
        f"{names.get(tuple(map(str, e['loc'])), '.'.join(map(str, e['loc'])))}: {e['msg']}"
        for e in exc.errors()
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _exit_for(exc: BaseException) -> Exit | None:
    # Imported here: `estrategia --help` need not load pyHanko.
    from signatures.csc.errors import RemoteSignerError
    from signatures.errors import RevocationUnavailable, SignatureError, TimestampUnavailable
    from workflow.storage.blobs import BlobCorrupted

    if isinstance(exc, BlobCorrupted):
        return Exit.DAMAGED
    if isinstance(exc, TimestampUnavailable | RevocationUnavailable | RemoteSignerError):
        return Exit.UNAVAILABLE
    if isinstance(exc, RenderingFailed):
        return Exit.UNAVAILABLE
    if isinstance(exc, EstrategiaError | SignatureError | OSError):
        return Exit.REFUSED
    return None


def fail(exc: Exception, lang: str | None = None) -> int:
    """Print ``exc`` as the command's last word and return its exit code.

    Expected errors: one line, ``error: ...``, in ``lang`` (default: ``cli_language()``)
    for ours and those of ``signatures``. Anything else is a bug: its traceback, then one
    line saying so.
    """
    from signatures.errors import SignatureError
    from workflow.signing.errors import coded

    code = _exit_for(exc)
    if code is None:
        traceback.print_exception(exc, file=sys.stderr)
        print("error: unexpected failure (a bug in estrategia): please report it", file=sys.stderr)
        return Exit.BUG
    language = lang or cli_language()
    if isinstance(exc, EstrategiaError):
        text = exc.message(language)
    elif isinstance(exc, SignatureError):
        c = coded(exc)
        text = render_message(c.code, c.params, language)
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    print(f"error: {_one_line(text)}", file=sys.stderr)
    return code
