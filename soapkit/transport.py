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
from lxml import etree

from soapkit.calls import MAX_RESPONSE_BYTES, unsafe_answer_reason
from soapkit.error_table import fault_error
from soapkit.errors import ConfigurationError, ResponseRejected

__all__ = ["MAX_RESPONSE_BYTES", "soap_errors"]


@contextmanager
def soap_errors() -> Iterator[None]:
    """Translate zeep's exceptions into soapkit's hierarchy."""
    try:
        yield
    except zeep.exceptions.Fault as fault:
        detail = etree.tostring(fault.detail).decode() if fault.detail is not None else None
        raise fault_error(fault.code, fault.message, detail) from None
    except zeep.exceptions.TransportError as error:  # its message embeds the whole body: never used
        reason = str(error.message).split("\n", 1)[0][:300]
        raise ResponseRejected(error.status_code, f"HTTP {error.status_code}: the server's answer is not a "
                               f"readable SOAP message ({reason}).") from None
    except zeep.exceptions.ValidationError as error:
        raise ConfigurationError(f"Invalid argument: {error}",
                                 hint="Check the parameter types with `soapkit describe`.") from None
    except (zeep.exceptions.Error, etree.LxmlError, UnicodeError, RecursionError, MemoryError) as error:
        raise ResponseRejected(200, f"The server's answer was refused: {unsafe_answer_reason(error)}.") from None
