"""Running a command line in the server for a local client (`POST /_local/cli`), with
what it prints captured per thread: a command's output is its own, while the server's
other threads (and other commands running at the same time) print as before.

`run_cli` calls the CLI as `cxmetrics` would and returns its stdout, stderr and exit
code: click's usage errors (exit 2), `TypeName: message` errors (exit 1), and the
traceback of a bug (exit 1), as a terminal would have shown them.
"""

from __future__ import annotations

import io
import sys
import threading
import traceback
from typing import Any


class _Buffer(io.StringIO):
    encoding = "utf-8"  # type: ignore[assignment]  # click treats a stream without one as ASCII
    errors = "strict"  # type: ignore[assignment]

    def isatty(self) -> bool:
        return False


_buffers: dict[int, dict[str, _Buffer]] = {}  # thread id -> its command's stdout and stderr
_install_lock = threading.Lock()


class _ThreadStream:
    """Stands in for sys.stdout or sys.stderr: writes of a thread running a client's
    command go to that command's buffer, everything else to the stream it replaced.
    (Swapping sys.stdout itself would capture the other threads' output too.)"""

    def __init__(self, name: str, fallback: Any) -> None:
        self._name, self._fallback = name, fallback

    def _target(self) -> Any:
        buffers = _buffers.get(threading.get_ident())
        return self._fallback if buffers is None else buffers[self._name]

    def write(self, text: str) -> int:
        return self._target().write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return bool(self._target().isatty())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


def _install() -> None:
    with _install_lock:
        for name in ("stdout", "stderr"):
            if not isinstance(getattr(sys, name), _ThreadStream):
                setattr(sys, name, _ThreadStream(name, getattr(sys, name)))


def run_cli(argv: list[str], prog: str = "cxmetrics") -> dict[str, Any]:
    """Run the command line as `cxmetrics` would, in this thread; its output and exit code."""
    from cxmetrics.cli import main

    _install()
    out, err = _Buffer(), _Buffer()
    ident = threading.get_ident()
    _buffers[ident] = {"stdout": out, "stderr": err}
    code = 0
    try:
        main.main(args=argv, prog_name=prog, standalone_mode=True)
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            err.write(f"{exc.code}\n")
            code = 1
    except BaseException:  # a bug: what Python prints for it
        err.write(traceback.format_exc())
        code = 1
    finally:
        del _buffers[ident]
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "exit_code": code}
