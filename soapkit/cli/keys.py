"""``soapkit keys convert|sign``: partner keys between .NET XML and PEM; signing a system-user token."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import add_connection_options, effective_settings
from soapkit.errors import ConfigurationError

CONVERT_EXAMPLES = """\
examples:
  soapkit keys convert partner-key.xml -o partner-key.pem       .NET <RSAKeyValue> -> PEM (PKCS#8), mode 0600
  soapkit keys convert partner-key.pem --to xml -o key.xml     PEM -> .NET XML
  soapkit keys convert partner-key.xml --public                the public key, as PEM, on stdout
"""
SIGN_EXAMPLES = """\
examples:
  soapkit keys sign --system-user-token @sut.txt --private-key key.xml -o signed.txt
  soapkit keys sign --sandbox ./sb --show-secrets
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="convert partner keys (XML <-> PEM) and sign system-user tokens",
                                   description="Work with the partner's RSA key.")
    commands = parser.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", required=True)
    convert = commands.add_parser("convert", help="convert a key between .NET <RSAKeyValue> XML and PEM",
                                  description="Convert an RSA key between .NET XML and PEM. Private keys are "
                                  "written with mode 0600 and printed only with --show-secrets.",
                                  epilog=CONVERT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    convert.add_argument("source", metavar="KEY", help="the key file (PEM or <RSAKeyValue> XML)")
    convert.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    convert.add_argument("--to", choices=("pem", "xml"), help="output format (default: the other one)")
    convert.add_argument("--public", action="store_true", help="output only the public key")
    convert.add_argument("--force", action="store_true", help="overwrite an existing output file")
    convert.set_defaults(handler=run_convert)
    sign = commands.add_parser("sign", help="sign a system-user token (token.yyyyMMddHHmm.signature)",
                               description="Sign the system-user token with the partner key, as "
                               "PartnerSystemUserService expects. The signed token is a credential: it is "
                               "printed only with --show-secrets, or written to a file (0600) with -o.",
                               epilog=SIGN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sign.add_argument("-o", "--output", metavar="FILE", help="write the signed token to FILE (mode 0600)")
    sign.add_argument("--time", metavar="ISO", help="sign as of this UTC time (default: now), e.g. 2024-05-01T12:00Z")
    add_connection_options(sign)
    sign.set_defaults(handler=run_sign)


# --- convert -----------------------------------------------------------------------------------


def run_convert(args: argparse.Namespace) -> int:
    source = Path(args.source).expanduser()
    if not source.is_file():
        raise ConfigurationError(f"Key file {source} does not exist.")
    data = source.read_bytes().lstrip(b"\xef\xbb\xbf").strip()
    target = args.to or ("pem" if data.startswith(b"<") else "xml")
    text = _public_text(data, target) if args.public else private_key_text(data, target)
    if args.output:
        _write(Path(args.output).expanduser(), text, private=not args.public, force=args.force)
        what = "public" if args.public else "private"
        print(f"{what} key written to {args.output} ({target.upper()})", file=sys.stderr)
        return 0
    if not args.public and not args.show_secrets:
        raise ConfigurationError("Refusing to print a private key.",
                                 hint="Write it to a file with -o FILE (mode 0600), or add --show-secrets.")
    stdout_output(args).line(text.rstrip())
    return 0


def private_key_text(data: bytes, target: str) -> str:
    from soapkit.credentials.keys import load_private_key, private_key_to_pem, private_key_to_xml

    key = load_private_key(data)
    return private_key_to_pem(key) if target == "pem" else private_key_to_xml(key) + "\n"


def _public_text(data: bytes, target: str) -> str:
    from cryptography.hazmat.primitives import serialization

    from soapkit.credentials.keys import load_public_key, public_key_to_xml

    key = load_public_key(data)
    if target == "xml":
        return public_key_to_xml(key) + "\n"
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _write(path: Path, text: str, *, private: bool, force: bool) -> None:
    from soapkit.debug import write_private_file

    if path.exists() and not force:
        raise ConfigurationError(f"{path} exists.", hint="Add --force to overwrite it.")
    if private:
        write_private_file(path, text)
    else:
        path.write_text(text, encoding="utf-8")


# --- sign --------------------------------------------------------------------------------------


def run_sign(args: argparse.Namespace) -> int:
    from soapkit.credentials.signing import SignedSystemToken, sign_system_token
    from soapkit.debug import write_private_file

    settings = effective_settings(args)
    token = settings.secret("system_user_token")
    key = settings.get("private_key")
    if not token or not key:
        raise ConfigurationError("Signing needs the system-user token and the private key.",
                                 hint="Give --system-user-token TOKEN|@FILE and --private-key FILE (or --sandbox DIR).")
    signed = sign_system_token(token, Path(str(key)).expanduser(), now=_moment(args.time))
    parsed = SignedSystemToken.parse(signed)
    if args.output:
        path = write_private_file(args.output, signed + "\n")
        print(f"signed token written to {path}", file=sys.stderr)
    out = stdout_output(args)
    shown = signed if args.show_secrets else None
    if out.json_mode:
        out.json({"signed_token": shown or "***", "timestamp": parsed.timestamp.isoformat(),
                  "signature_bytes": len(parsed.signature)})
    elif shown:
        out.line(shown)
    elif not args.output:
        out.line(f"signed at {parsed.timestamp:%Y-%m-%d %H:%M} UTC, {len(parsed.signature)}-byte signature: ***")
        print("hint: the signed token is a credential; add --show-secrets to print it or -o FILE to save it",
              file=sys.stderr)
    return 0


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"--time {text!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00Z).") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
