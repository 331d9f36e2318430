#!/usr/bin/python3
"""How long a switch takes to put a change in effect, as the database sees it.

Usage: cfg_monitor.py unix:PATH OUT

Monitors Open_vSwitch next_cfg and cur_cfg (RFC 7047 `monitor`) and writes
one line per configuration number N that ovs-vsctl raised and the switch
then reported in effect:

    N  seconds from "next_cfg = N" to "cur_cfg >= N"  WALL

WALL is the wall-clock time (time.time(), the clock of bash's
EPOCHREALTIME) at which "cur_cfg >= N" was read: ovsdb-server sends that
update to ovs-vsctl in the same pass, so a caller that notes when ovs-vsctl
returned gets ovs-vsctl's tail (read the update, check, exit).

Both notifications come from the same ovsdb-server, which sends an update
to every monitor in the same pass: the first when it committed ovs-vsctl's
change (the switch gets its copy then), the second when it committed the
switch's write-back.  The difference is the switch's own time (read the
update, apply, fence, write back) plus one commit, without ovs-vsctl's start,
its reads of the database and its exit, which the wall time of an ovs-vsctl
call includes and which do not depend on the switch.  Runs until SIGTERM or
SIGINT, then writes OUT.  Times are time.monotonic() at the moment the bytes
were read (both switches measured the same way).
"""
import codecs
import json
import signal
import socket
import sys
import time


class Stopped(Exception):
    pass


def stop(*_):
    raise Stopped()  # out of a blocked recv (which PEP 475 would retry)


def main():
    remote, out = sys.argv[1], sys.argv[2]
    if not remote.startswith("unix:"):
        sys.exit("cfg_monitor.py: only unix:PATH remotes")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(remote[5:])
    req = {"method": "monitor", "id": "m",
           "params": ["Open_vSwitch", None,
                      {"Open_vSwitch": {"columns": ["next_cfg", "cur_cfg"]}}]}
    s.sendall(json.dumps(req).encode())
    t_next, t_cur, wall_cur = {}, {}, {}
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    dec, buf = json.JSONDecoder(), ""
    utf8 = codecs.getincrementaldecoder("utf-8")()  # a character may span two reads

    def seen(rows, now, wall):
        for row in rows.get("Open_vSwitch", {}).values():
            new = row.get("new") or {}
            if isinstance(new.get("next_cfg"), int):
                t_next.setdefault(new["next_cfg"], now)
            if isinstance(new.get("cur_cfg"), int):
                t_cur.setdefault(new["cur_cfg"], now)
                wall_cur.setdefault(new["cur_cfg"], wall)

    try:
        while True:
            data = s.recv(65536)
            now, wall = time.monotonic(), time.time()
            if not data:
                break
            buf += utf8.decode(data)
            while buf.strip():
                try:
                    msg, end = dec.raw_decode(buf.lstrip())
                except json.JSONDecodeError:
                    break  # incomplete: wait for more bytes
                buf = buf.lstrip()[end:]
                if msg.get("method") == "echo":
                    s.sendall(json.dumps({"id": msg["id"], "result": msg["params"],
                                          "error": None}).encode())
                elif msg.get("method") == "update":
                    seen(msg["params"][1], now, wall)
                # (the monitor's reply, the state before: nothing to time)
    except Stopped:  # may come at any line: the times so far stand
        pass
    with open(out, "w") as f:
        for n in sorted(t_next):
            done = [(t, c) for c, t in t_cur.items() if c >= n and t >= t_next[n]]
            if done and n > 0:
                t, c = min(done)
                f.write("%d %.6f %.6f\n" % (n, t - t_next[n], wall_cur[c]))


if __name__ == "__main__":
    main()
