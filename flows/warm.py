"""Imported once by the serve process's fork server (see ``flows.serve``) beside the flows
themselves: Django with its apps loaded (importing ``flows`` sets it up; the app registry only,
no database connection is opened), the services the flows report through, and the libraries they
import only when they run.

It also ties the fork server's life to the serve process, and each flow run's to the fork
server's: when serve is killed (kill -9 skips every clean-up), they are killed too, instead of
training on as orphans that hold the stack's output pipe open (so the stack never sees serve go).
"""

import ctypes
import ctypes.util
import importlib
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when the thread that started it ends (Linux only;
    elsewhere nothing: orphans there are left to the stack's own stop)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


_FORK_SERVER = os.getpid()
_is_flow_run = False


def _die_with_fork_server() -> None:
    global _is_flow_run
    if _is_flow_run:  # forked by a flow run in turn: that is the flow run's business
        return
    _is_flow_run = True
    die_with_parent()
    if os.getppid() != _FORK_SERVER:  # the fork server died before the signal was asked for
        os._exit(1)


# The fork server: its parent is serve. (Were serve gone already, the fork server ends by itself:
# it stops when its "alive" pipe closes, which only flow runs, none yet, would still hold.)
die_with_parent()
os.register_at_fork(after_in_child=_die_with_fork_server)

for module in (
    "console.endpoints.services.deployment",
    "console.labeling.services",
    "console.training.services",
    "console.transform.services",
    "console.tuning.services",
    "algorithms.tuning",  # torch and GPyTorch
):
    importlib.import_module(module)
