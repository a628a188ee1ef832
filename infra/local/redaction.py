"""Secrets out of the local stack's logs: what a URL's query carries in an OAuth flow.

MercadoLibre sends the browser back to `/api/v1/ml/callback?code=...&state=...`: the code is worth
a token until it is used, the state binds the link to a seller. Request logs (`chalice local`'s, the
panel server's, the sandbox's) print the request line, and `make run` echoes every child's output
on its console and into `.local/logs/`; each line passes through `redact` first.
"""

from __future__ import annotations

import re

SECRET_PARAMETERS = ("code", "state", "code_verifier", "client_secret", "access_token", "refresh_token")
REDACTED = "[redacted]"
# One pass, no nested repetition: linear in the line's length.
_QUERY_SECRET = re.compile(r"([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;\s\"'#]*")


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by [redacted]."""
    return _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)
