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
