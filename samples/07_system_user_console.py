"""A port of SuperOffice's .NET system-user console sample: sign, exchange, validate, authenticate, log.

    python samples/07_system_user_console.py [--sandbox DIR]

Each step names the .NET call it replaces (see docs/migrating-from-wcf.md). soapkit.connect(...,
credentials=SystemUser(...)) does steps 1-4 for you on the first call; they are spelled out here to show
what happens. Logging goes through soapkit's redacting filter, so the ticket and the JWT in the log
lines come out as ***.
"""

from __future__ import annotations

import logging
import sys

from _sandbox import sample_parser, sandbox_config

import soapkit
from soapkit import SystemUser
from soapkit.credentials import SignedSystemToken, exchange_signed_token, sign_system_token
from soapkit.credentials.jwt_validation import TICKET_CLAIM, claim, validate_system_user_jwt
from soapkit.debug import install_log_redaction

log = logging.getLogger("system-user-console")


def main(argv: list[str] | None = None) -> int:
    args = sample_parser(__doc__).parse_args(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)-5s %(message)s"))
    install_log_redaction(handler)               # this handler masks tickets, tokens and keys
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    with sandbox_config(args.sandbox) as config:
        ctx, env, app_token = config["context_identifier"], config["base_url"], config["client_secret"]
        system_user = SystemUser(config["system_user_token"], config["private_key_pem"])
        with soapkit.connect(ctx, env=env, app_token=app_token, credentials=system_user) as so:
            # 1. SystemToken.Sign(systemUserToken)
            signed = sign_system_token(config["system_user_token"], config["private_key_pem"])
            log.info("signed the system-user token at %s UTC", f"{SignedSystemToken.parse(signed).timestamp:%H:%M}")
            # 2. PartnerSystemUserService Authenticate / AuthenticateWithSignedSystemToken
            token = exchange_signed_token(so.context, signed)
            log.info("PartnerSystemUserService answered with a JWT: %s", token)
            # 3. SuperIdTokenHandler.ValidateToken: RS256, issuer, audience spn:{serial}, expiry, key by kid
            claims = validate_system_user_jwt(token, so.context.jwks)
            ticket, netserver_url = claims[TICKET_CLAIM], claims[claim("netserver_url")]
            log.info("validated; ticket %s for %s", ticket, claims[claim("ctx")])

        # 4. ConfigFile.WebServices.RemoteBaseURL = token.NetserverUrl;
        #    SoSession.Authenticate(new SoCredentials(ticket))
        with soapkit.connect(ctx, env=env, app_token=app_token, ticket=ticket) as session:
            log.info("netserver_url claim %s; tenant lookup %s", netserver_url, session.services_url())
            principal = session.SoPrincipalAgent.AuthenticateWithAccessToken(AccessToken=ticket)
            if principal is None:
                log.error("the ticket was not accepted")
                return 1
            # 5. log the principal (SoContext.CurrentPrincipal)
            log.info("principal: %s (associate %s, %s), role %s, database %s", principal.FullName,
                     principal.AssociateId, principal.UserType, principal.RoleName, principal.DatabaseContextIdentifier)
            company = session.ContactAgent.GetContactEntity(1)
            log.info("as that principal, company #1 is %r", company.Name if company is not None else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
