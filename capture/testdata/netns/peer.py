"""Clients (mode client) and servers (mode server) of the namespace tests.

Each scenario uses its own port on the server, 10.77.0.2, and runs in its
own thread. The third argument is the instant the clients start (seconds
since the epoch); the simultaneous close happens 0.3 s after it. Times are
kept short so that the whole run takes a few seconds; the test ends the
server once the clients are done.
"""
import socket
import struct
import sys
import threading
import time

SERVER = "10.77.0.2"


def serve_close(port):
    # handshake, request, response, the client closes first.
    ls = listen(port)
    c, _ = ls.accept()
    c.recv(100)
    c.sendall(b"bye")
    while c.recv(100):
        pass
    time.sleep(0.05)
    c.close()


def serve_halfclose(port):
    # the client shuts down its sending side; the server still sends.
    ls = listen(port)
    c, _ = ls.accept()
    while c.recv(100):
        pass
    time.sleep(0.05)
    c.sendall(b"late data")
    time.sleep(0.05)
    c.close()


def serve_simclose(port):
    ls = listen(port)
    c, _ = ls.accept()
    at = float(c.recv(100))  # the client says when
    wait_until(at)
    c.shutdown(socket.SHUT_WR)
    time.sleep(1.5)
    c.close()


def serve_linger(port):
    ls = listen(port)
    c, _ = ls.accept()
    try:
        while c.recv(100):
            pass
    except ConnectionResetError:
        pass


def serve_keepalive(port):
    # an nginx-like idle timeout of 1.5 s, shorter than the client's pool.
    ls = listen(port)
    c, _ = ls.accept()
    c.recv(100)
    c.sendall(b"response")
    time.sleep(1.5)
    c.close()
    time.sleep(1)


def serve_backlog(port):
    # listen(1) and never accept: the accept queue fills. The test ends the
    # server once the client is done.
    ls = listen(port, backlog=1)
    time.sleep(30)
    ls.close()


def listen(port, backlog=16):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((SERVER, port))
    s.listen(backlog)
    return s


def wait_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def client_close(port):
    s = socket.create_connection((SERVER, port))
    s.sendall(b"hello")
    s.recv(100)
    s.close()


def client_halfclose(port):
    s = socket.create_connection((SERVER, port))
    s.sendall(b"request")
    s.shutdown(socket.SHUT_WR)
    while s.recv(100):
        pass
    s.close()


def client_simclose(port):
    s = socket.create_connection((SERVER, port))
    at = float(sys.argv[3]) + 0.3
    s.sendall(b"%.6f" % at)
    wait_until(at)
    s.shutdown(socket.SHUT_WR)
    time.sleep(1.5)
    s.close()


def client_linger(port):
    s = socket.create_connection((SERVER, port))
    s.sendall(b"abc")
    time.sleep(0.1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def client_refused(port):
    try:
        socket.create_connection((SERVER, port), timeout=1)
    except OSError:
        pass


def client_dropped(port):
    try:
        socket.create_connection((SERVER, port), timeout=1.5)
    except OSError:
        pass


def client_keepalive(port):
    # a pooled connection with keep-alive on (the namespace's sysctls make
    # it probe after 1 s idle), reused after the server's idle timeout.
    s = socket.create_connection((SERVER, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.sendall(b"request 1")
    s.recv(100)
    time.sleep(1.8)
    try:
        s.sendall(b"request 2")
        time.sleep(0.2)
        s.recv(100)
    except OSError:
        pass
    s.close()


def client_backlog(port):
    socks = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((SERVER, port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(2.5)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


SCENARIOS = {
    "close": 7001, "halfclose": 7002, "simclose": 7003, "linger": 7004,
    "refused": 7005, "dropped": 7006, "keepalive": 7007, "backlog": 7008,
}


def main():
    mode, names = sys.argv[1], sys.argv[2].split(",")
    if mode == "client":
        wait_until(float(sys.argv[3]))
    threads = []
    for name in names:
        fn = globals().get({"server": "serve_", "client": "client_"}[mode] + name)
        if fn is None:
            continue
        t = threading.Thread(target=fn, args=(SCENARIOS[name],), daemon=True)
        t.start()
        threads.append(t)
    if mode == "server":
        time.sleep(0.1)  # the threads have called listen()
        print("listening", flush=True)
    for t in threads:
        t.join(30)


main()
