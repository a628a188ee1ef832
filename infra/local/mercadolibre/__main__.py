"""`python -m infra.local.mercadolibre --host 127.0.0.1 --port 8300 [--state-file F] [--notifications-url U]`

Serves the sandbox on the given host only (loopback by default). The pre-registered app is
client_id 1234567890123456 / client_secret local-sandbox-secret; sign a test seller in at
/authorization. With --state-file, accounts, tokens, pictures and items survive restarts (the file is
written on every change; picture bytes go to `<state-file>.pictures/`). With --notifications-url,
that app's `items` notifications are POSTed there (IntelliPost's is `/api/v1/ml/notifications`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

from werkzeug.serving import make_server

from infra.local.mercadolibre.server import create_app
from infra.local.mercadolibre.state import DEFAULT_CLIENT_ID, SandboxState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.mercadolibre", description="The local MercadoLibre sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--state-file", type=Path, help="keep the sandbox's state in this JSON file")
    parser.add_argument("--notifications-url", help="where the app's `items` notifications go")
    args = parser.parse_args(argv)

    state = SandboxState(state_file=args.state_file)
    if args.notifications_url:
        app = state.apps[DEFAULT_CLIENT_ID]
        app.notifications_url, app.topics = args.notifications_url, ["items"]
    server = make_server(args.host, args.port, create_app(state), threaded=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # leaves serve_forever() in this thread; shutdown() would wait on itself

    signal.signal(signal.SIGTERM, stop)
    print(f"MercadoLibre sandbox on http://{args.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
