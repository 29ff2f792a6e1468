"""Reading SOAP answers outside the call flow (``soapkit envelope``, your own zeep clients).

soapkit's own calls send and read through :mod:`soapkit.calls` and the drivers; this module keeps
:func:`soap_errors` for code that still lets zeep read an answer: it turns whatever zeep or lxml raise (faults,
malformed or unsafe XML: DTDs, entities, excessive depth, invalid UTF-8) into soapkit errors, classified by the
one table (:mod:`soapkit.error_table`); messages never carry zeep's dump of the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import zeep.exceptions

from soapkit.calls import MAX_RESPONSE_BYTES, reading_error
from soapkit.errors import ConfigurationError

__all__ = ["MAX_RESPONSE_BYTES", "soap_errors"]


@contextmanager
def soap_errors() -> Iterator[None]:
    """Translate zeep's exceptions into soapkit's hierarchy (an invalid argument is the caller's; anything about the
    answer is classified as the call flow classifies it, by :func:`soapkit.calls.reading_error`)."""
    try:
        yield
    except zeep.exceptions.ValidationError as error:
        raise ConfigurationError(f"Invalid argument: {error}",
                                 hint="Check the parameter types with `soapkit describe`.") from None
    except Exception as error:
        classified = reading_error(error)
        if classified is None:
            raise
        raise classified from None
