"""The one typed error raised by every byte decoder in ``device.protocols``.

Decoders turn bytes that came over the air into values. When the bytes cannot be
what the protocol says (wrong length, bad checksum, out-of-range field, a packet out
of sequence), they raise :class:`DecodeError` and nothing else, so a driver can
catch exactly one exception type, log the offending bytes and carry on.

Encoders are different: they are called with our own values, and a bad value there
is a programming error; they raise plain :class:`ValueError`.
"""

from __future__ import annotations


class DecodeError(ValueError):
    """Bytes received from a device do not decode under the protocol's rules."""
