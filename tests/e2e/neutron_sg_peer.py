#!/usr/bin/python3
"""Traffic ends of tests/e2e/neutron_sg_test.sh (standard sockets only).

  listen LOG SPEC...      SPEC tcp:PORT or udp:PORT; records what ARRIVES:
                          one line "PROTO PORT SRC_IP MESSAGE" per message
                          (TCP: per line, and "accept PORT SRC_IP" per
                          connection), flushed at once, and answers
                          "ack MESSAGE" to the sender.  Runs until killed.
  tcp IP PORT MSG         connect (1.5 s), send MSG, wait 1.5 s for the
                          ack; exit 0 if it came back, 1 otherwise
  udp IP PORT MSG [SPORT] the same over UDP (from SPORT if given)
  session IP PORT IN OUT  one TCP connection kept open: each line read
                          from the file IN (a FIFO) is sent, and
                          "ok MSG" or "lost MSG" (no ack in 1.5 s) is
                          appended to OUT; "quit" ends it
  raw IFACE SMAC DMAC SIP DIP DPORT MSG
                          a hand-built Ethernet/IPv4/UDP frame (UDP
                          checksum 0) sent 3 times on IFACE through an
                          AF_PACKET socket: the source MAC and IP are
                          whatever the caller says (spoofing)
"""
import select
import socket
import struct
import sys
import time

WAIT = 1.5


def listen(log, *specs):
    out = open(log, "a", buffering=1)
    socks, conns = {}, {}
    for spec in specs:
        proto, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(port)))
        if proto == "tcp":
            s.listen(16)
        socks[s.fileno()] = (s, proto, int(port))
    out.write("ready\n")
    poll = select.poll()
    for fd in socks:
        poll.register(fd, select.POLLIN)
    while True:
        for fd, _ in poll.poll():
            if fd in socks:
                s, proto, port = socks[fd]
                if proto == "tcp":
                    c, peer = s.accept()
                    out.write(f"accept {port} {peer[0]}\n")
                    conns[c.fileno()] = (c, port, peer[0], b"")
                    poll.register(c.fileno(), select.POLLIN)
                else:
                    data, peer = s.recvfrom(2048)
                    msg = data.decode(errors="replace").strip()
                    out.write(f"udp {port} {peer[0]} {msg}\n")
                    s.sendto(b"ack " + data, peer)
                continue
            c, port, ip, buf = conns[fd]
            try:
                data = c.recv(2048)
            except OSError:
                data = b""
            if not data:
                poll.unregister(fd)
                conns.pop(fd)
                c.close()
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out.write(f"tcp {port} {ip} {line.decode(errors='replace')}\n")
                c.sendall(b"ack " + line + b"\n")
            conns[fd] = (c, port, ip, buf)


def wait_ack(s, msg):
    want = b"ack " + msg.encode()
    buf, end = b"", time.monotonic() + WAIT
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        data = s.recv(2048)
        if not data:
            break
        buf += data
        if want in buf:
            return True
    return False


def tcp(ip, port, msg):
    s = socket.socket()
    s.settimeout(WAIT)
    try:
        s.connect((ip, int(port)))
        s.sendall(msg.encode() + b"\n")
        return 0 if wait_ack(s, msg) else 1
    except OSError:
        return 1


def udp(ip, port, msg, sport=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(sport)))
    s.sendto(msg.encode(), (ip, int(port)))
    return 0 if wait_ack(s, msg) else 1


def session(ip, port, path_in, path_out):
    out = open(path_out, "a", buffering=1)
    fifo = open(path_in)  # first: the writer waits for this open
    s = socket.socket()
    s.settimeout(WAIT)
    try:
        s.connect((ip, int(port)))
    except OSError as e:
        out.write(f"connect failed: {e}\n")
        return 1
    out.write("connected\n")
    with fifo:
        for line in fifo:
            msg = line.strip()
            if msg == "quit":
                break
            try:
                s.sendall(msg.encode() + b"\n")
                ok = wait_ack(s, msg)
            except OSError:
                ok = False
            out.write(("ok " if ok else "lost ") + msg + "\n")
    return 0


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def raw(iface, smac, dmac, sip, dip, dport, msg):
    payload = msg.encode()
    udp_hdr = struct.pack("!HHHH", 40000, int(dport), 8 + len(payload), 0)
    ip_hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 1, 0, 64, 17, 0,
                         socket.inet_aton(sip), socket.inet_aton(dip))
    ip_hdr = ip_hdr[:10] + struct.pack("!H", csum(ip_hdr)) + ip_hdr[12:]
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(3):
        s.send(eth + ip_hdr + udp_hdr + payload)
        time.sleep(0.05)
    return 0


def main(argv):
    cmds = {"listen": listen, "tcp": tcp, "udp": udp, "session": session, "raw": raw}
    if not argv or argv[0] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[argv[0]](*argv[1:]))


if __name__ == "__main__":
    main(sys.argv[1:])
