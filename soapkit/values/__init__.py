"""Python <-> schema values: one implementation for the Python API and the command line.

* :mod:`soapkit.values.inputs` -- plain Python in, checked against the WSDL (lists for list wrappers, dicts
  for complex types), :class:`~soapkit.errors.InvalidValue` before anything is sent;
* :mod:`soapkit.values.outputs` -- list wrappers become lists at every depth; :func:`plain` for JSON;
* :mod:`soapkit.values.archive` -- Archive's encoded values, restrictions and lazy paging;
* :mod:`soapkit.values.lists` -- the per-client cache of MDO and user-defined field lists.

See docs/values.md.
"""

from soapkit.values.archive import ArchiveQuery, ArchiveRow, ArchiveRows, MultiLanguageText, decode_value, encode_value
from soapkit.values.codec import codec_for
from soapkit.values.inputs import InputOptions
from soapkit.values.outputs import plain, shape

__all__ = [
    "ArchiveQuery",
    "ArchiveRow",
    "ArchiveRows",
    "InputOptions",
    "MultiLanguageText",
    "codec_for",
    "decode_value",
    "encode_value",
    "plain",
    "shape",
]
