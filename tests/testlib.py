"""Shared by the end-to-end tests: counted checks and the runner of the
askdocs binary. Standard library only."""
import subprocess

FAILS = []
_passes = [0]


def check(cond, what, detail=""):
    """Count one check; print 'ok' or 'FAIL' with the detail."""
    if cond:
        _passes[0] += 1
        print(f"ok   {what}", flush=True)
    else:
        FAILS.append(what)
        print(f"FAIL {what} {detail}", flush=True)


def finish():
    """Print the totals and return the exit status (1 on any failure)."""
    print(f"{_passes[0]} passed, {len(FAILS)} failed")
    for f in FAILS:
        print(f"  failed: {f}")
    return 1 if FAILS else 0


class Runner:
    """Runs the askdocs binary with a fixed environment."""

    def __init__(self, exe, env):
        self.exe = exe
        self.env = env

    def run(self, *args, stdin=None, timeout=900):
        p = subprocess.run([self.exe, *args], input=stdin, capture_output=True,
                           env=self.env, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")


# ---------------------------------------------- servers on 127.0.0.1
def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(server):
    """Run a socketserver (e.g. http.server.ThreadingHTTPServer) on a daemon
    thread; stop it with server.shutdown() and server.server_close()."""
    import threading
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    return th


def wait_http(url, timeout=120, proc=None):
    """Poll GET url until it answers 200. False on timeout or when proc (a
    subprocess.Popen) has exited."""
    import time
    import urllib.error
    import urllib.request
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def sanitizer_report(text):
    """The first line of an ASan/UBSan/LSan report in text, else ''."""
    for line in text.splitlines():
        if ("ERROR: AddressSanitizer" in line or
                "ERROR: LeakSanitizer" in line or "runtime error:" in line):
            return line
    return ""
