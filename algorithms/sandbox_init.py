"""The first program inside a job's sandbox: lay out its mounts, drop to its user, run its command.

Started by ``algorithms.sandbox`` as ``unshare --mount --propagation private -- python -I -S
sandbox_init.py <plan as JSON>``, so it is already alone in a private mount namespace, still root.
It uses the standard library only (``-S``: no site-packages) and ends by exec-ing the command,
so the job's process is the one its supervisor started: signals and exit codes pass unchanged.
"""

import ctypes
import json
import os
import resource
import sys
import warnings  # noqa: F401  (os.execvpe imports it, after the switch to a user who may not read it)

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
EXIT_SANDBOX_FAILED = 125  # as ``env``/``docker run`` answer when they cannot start a command

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p,) * 3 + (ctypes.c_ulong, ctypes.c_char_p)


def mount(source, target, fstype, flags, data=None):
    encoded = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    if _libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} on {target}: {os.strerror(errno)}")


def bind(source, target, *, read_only):
    os.makedirs(target, exist_ok=True)
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def hide(path, kept):
    """An empty, read-only folder over ``path``, but for the folders of ``kept`` (path → an open
    descriptor of it) that lie inside it; a path already out of sight is left alone."""
    if not os.path.isdir(path):
        return
    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for folder, descriptor in kept.items():
        if folder.startswith(path.rstrip("/") + "/"):
            os.makedirs(folder, exist_ok=True)
            bind(f"/proc/self/fd/{descriptor}", folder, read_only=True)
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def main(plan):
    # Every source is held open before anything is mounted: a bind (of /tmp, say) or a hidden
    # folder may cover the path of a source bound after it.
    sources = [os.open(source, os.O_PATH | os.O_DIRECTORY) for source, _, _ in plan["binds"]]
    for descriptor, (_, target, read_only) in zip(sources, plan["binds"], strict=True):
        bind(f"/proc/self/fd/{descriptor}", target, read_only=read_only)
    # Folders to keep in sight inside hidden ones (the job's Python), held open likewise.
    kept = {folder: os.open(folder, os.O_PATH | os.O_DIRECTORY) for folder in plan["keep"]}
    for path in plan["hide"]:
        hide(path, kept)
    limits = plan["limits"]
    for kind, wanted in (
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_DATA, limits["memory_bytes"]),
    ):
        # Never above the machine's own hard limit: that needs a privilege root may lack here.
        _, hard = resource.getrlimit(kind)
        value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(kind, (value, value))
    cpus = sorted(os.sched_getaffinity(0))[: limits["cpus"]]
    os.sched_setaffinity(0, cpus)
    if plan["uid"] is not None:
        os.setgroups([])
        os.setgid(plan["gid"])
        os.setuid(plan["uid"])
    os.chdir(plan["cwd"])
    os.umask(0o022)
    try:
        os.execvpe(plan["argv"][0], plan["argv"], plan["env"])
    except FileNotFoundError:
        raise OSError(f"the command {plan['argv'][0]!r} is not found in the job's PATH") from None


if __name__ == "__main__":
    try:
        main(json.loads(sys.argv[1]))
    except (OSError, ValueError) as error:
        print(f"sandbox: {error}", file=sys.stderr, flush=True)
        sys.exit(EXIT_SANDBOX_FAILED)
