import socket
import subprocess

def ping(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    s.sendall(b"PING\r\n")
    return s.recv(64)

def uptime():
    return subprocess.check_output(["/usr/bin/uptime"])
