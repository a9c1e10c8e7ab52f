# SPDX-License-Identifier: MIT
"""socketmap_ask.py PORT KEY...: asks the policyd on 127.0.0.1:PORT for each KEY in the map
"postfix" (Postfix's socketmap: netstrings) and prints each answer's payload on its own line.
Waits up to 5 s for the daemon to listen.  Used by the tests of tests/cli/ (lib-tap.sh)."""
import socket
import sys
import time


def connect(port):
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.05)
    raise SystemExit("socketmap_ask: nothing listens on port %d" % port)


def answer(sock):
    data = b""
    while True:
        head, colon, rest = data.partition(b":")
        if colon and head.isdigit() and len(rest) >= int(head) + 1:
            return rest[:int(head)].decode()
        chunk = sock.recv(65536)
        if not chunk:
            return "(connection closed)"
        data += chunk


def main():
    sock = connect(int(sys.argv[1]))
    for key in sys.argv[2:]:
        q = ("postfix " + key).encode()
        sock.sendall(b"%d:%s," % (len(q), q))
        print(answer(sock))


main()
