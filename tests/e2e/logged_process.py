# SPDX-License-Identifier: MIT
# A daemon under test whose stderr log is kept line by line, for the e2e tests that wait for a
# log event (test_fleet.py, test_policyd_locked_cache.py).  Standard library only.
import re
import signal
import subprocess
import threading
import time


class LoggedProcess:
    """argv started with its stderr read into lines; stdin and stdout are /dev/null."""

    def __init__(self, argv):
        self.lines = []
        self.cv = threading.Condition()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for raw in self.p.stderr:
            with self.cv:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cv.notify_all()

    def wait_log(self, regex, timeout):
        """The first log line matching regex, waiting up to timeout seconds; None when it
        does not come (or the process ended without it)."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for ln in self.lines:
                    if rx.search(ln):
                        return ln
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    return None
                self.cv.wait(left)

    def log(self, last=10):
        with self.cv:
            return "\n".join(self.lines[-last:])

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()
