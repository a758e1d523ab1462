"""How the embedded engine says no.

Two kinds of refusal, both permanent (retrying cannot help): a query Elasticsearch itself
would reject (an average over a keyword field, a number that does not parse), worded like
Elasticsearch's own message; and a query Elasticsearch would answer but the embedded engine
cannot answer exactly, which names the clause and says so — never a wrong answer.
"""

from __future__ import annotations

from airgap.domain.model.errors import PermanentSearchError

UNSUPPORTED = "unsupported by the embedded backend"


def unsupported(what: str, path: str) -> PermanentSearchError:
    """``what`` (a clause, option or feature) at ``path`` cannot be answered exactly."""
    return PermanentSearchError(f"{what} is {UNSUPPORTED}: {path}")


def rejected(path: str, message: str) -> PermanentSearchError:
    """A query Elasticsearch would refuse too."""
    return PermanentSearchError(f"{path}: {message}" if path else message)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
