# SPDX-License-Identifier: MIT
"""TAP for the Python e2e tests: numbered "ok" / "not ok" lines with the diagnostics of a
failure, comments, and the plan printed at the end (meson reads a trailing plan)."""


class Tap:
    def __init__(self, tail=30):
        self.n = 0
        self.failed = 0
        self.tail = tail  # the last lines of a failure's detail shown

    def ok(self, cond, name, detail=""):
        self.n += 1
        print(("ok" if cond else "not ok") + f" {self.n} - {name}", flush=True)
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines()[-self.tail:]:
                print(f"#   {line}")
        return cond

    def comment(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def plan(self):
        """Prints the plan; the exit status of the test (1 when a check failed)."""
        print(f"1..{self.n}")
        return 1 if self.failed else 0
