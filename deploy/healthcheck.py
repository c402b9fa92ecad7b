"""The container image's HEALTHCHECK: GET one URL, exit 0 on a 2xx answer, 1 otherwise.

One image runs every role, each answering on its own port, so the URL comes from
BRIDGES_HEALTHCHECK_URL (the image's default is the ledger's /healthz; the compose file sets
it per role). Standard library only: it runs in the image without the project's imports.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def main() -> int:
    url = os.environ.get("BRIDGES_HEALTHCHECK_URL") or DEFAULT_URL
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        print(f"healthcheck: {url} is not a local http URL", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - checked above
            status = response.status
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
