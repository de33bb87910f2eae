"""A launcher for the fault tests: imports the app once (about 5 s here), then forks a fresh
server process for each ``<port>`` line read on stdin and answers with the server's pid. The
test kills that process with SIGKILL; a restart costs a fork, not a new interpreter.

``python -m tests.faults._server DATABASE_URL`` (logs go to stderr).
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    import uvicorn

    from core.plugins import get_plugin_manager
    from core.settings import get_settings
    from core.web.app import create_app

    database_url = sys.argv[1]
    registry = get_plugin_manager()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed servers are reaped by the kernel
    for line in sys.stdin:
        port = int(line)
        pid = os.fork()
        if pid == 0:  # the server: a new app (engine, pool) on the database, nothing shared
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.dup2(2, 1)
            app = create_app(get_settings(database_url, secret_key="faults-secret"), registry)
            uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
