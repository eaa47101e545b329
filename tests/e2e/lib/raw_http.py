#!/usr/bin/env python3
"""Sends one raw HTTP request to a Unix socket, byte for byte, and prints the
status line of the answer (or "no answer"). Used by the adversarial e2e tests
to send what no Docker client would: repeated headers, chunked form bodies,
Content-Type values with non-ASCII spaces.

usage: raw_http.py SOCKET REQUEST_FILE [FOLLOW_UP_FILE]
  REQUEST_FILE  the request (head and body) exactly as sent; "\\n" line ends in
                the head are turned into "\\r\\n"
  FOLLOW_UP     bytes sent once the answer's head has arrived (input for a
                hijacked attach), if any
The whole answer is written to REQUEST_FILE.answer.
"""
import socket
import sys
import time


def read(s, answer, until=None):
    """Appends what arrives to answer until `until` is in it, the peer closes, or the
    socket's timeout passes."""
    try:
        while until is None or until not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    return answer


def main():
    sock_path, request_file = sys.argv[1], sys.argv[2]
    data = open(request_file, "rb").read()
    head, sep, body = data.partition(b"\n\n")
    raw = head.replace(b"\n", b"\r\n") + b"\r\n\r\n" + body if sep else data
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(raw)
    # Wait for the answer's head however slow the engine is (a loaded CI host), then
    # send the follow-up: were the attach let through, it would reach the shell.
    s.settimeout(60.0)
    answer = read(s, b"", until=b"\r\n\r\n")
    if len(sys.argv) > 3:
        try:
            s.sendall(open(sys.argv[3], "rb").read())
        except OSError:
            pass  # the engine answered and closed: nothing was attached
        time.sleep(1.0)
    s.settimeout(1.0)
    answer = read(s, answer)
    s.close()
    open(request_file + ".answer", "wb").write(answer)
    first = answer.split(b"\r\n", 1)[0].decode("latin-1")
    print(first if first else "no answer")


if __name__ == "__main__":
    main()
