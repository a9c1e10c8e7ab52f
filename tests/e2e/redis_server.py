# SPDX-License-Identifier: MIT
"""A redis-server of a test's own (fleet mode, issue 20): TCP on 127.0.0.1:PORT inside the test
network, no persistence (a restart is a Redis that lost everything), and redis-cli to look."""
import os
import subprocess
import time


class RedisServer:
    def __init__(self, port, workdir):
        self.port = port
        self.dir = workdir
        self.p = None

    def cli(self, *args):
        """redis-cli's output for one command ("" when Redis does not answer)."""
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=10).stdout.strip()

    def log(self):
        path = os.path.join(self.dir, "redis.log")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()[-2000:]

    def start(self):
        """Starts it and waits (5 s at most) for PONG; True when it answers."""
        self.p = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind",
                                   "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                   self.dir, "--logfile", os.path.join(self.dir, "redis.log")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if self.cli("PING") == "PONG":
                return True
            time.sleep(0.05)
        return False

    def kill(self):
        """SIGKILL: what a crash or an OOM kill does (nothing saved)."""
        if self.p is not None and self.p.poll() is None:
            self.p.kill()
            self.p.wait()
