#!/usr/bin/env python3
"""Judges the journal of a clean start (`journalctl -u drophook -o json`): no entry at warning
priority or worse, from systemd or the unit; and every line the unit's own processes wrote is
one of drophook's: the agent's log lines (`drophook: …`, `drophook.delivery: …`), check's
report (`PATH: OK (…)`, `watch …`, `session log: …`) or prepare's (`drophook prepare: …`).

A line from anything else in the process (a library writing to standard error, as
libdispatch does when it is refused a system call) fails the start.
"""
import json
import re
import sys

OWN = re.compile(r"^(drophook(\.[a-z]+)?: |drophook prepare: |/\S+: OK \(|watch \S+: completion by |session log: )")


def main():
    bad = []
    count = 0
    with open(sys.argv[1], encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            message = entry.get("MESSAGE", "")
            if isinstance(message, list):  # journald's form for a message that is not UTF-8
                message = bytes(message).decode("utf-8", "replace")
            priority = int(entry.get("PRIORITY", "6"))
            own_process = entry.get("_PID") != "1"
            count += 1
            if priority <= 4:
                bad.append(f"priority {priority}: {message}")
            elif own_process and not OWN.match(message):
                bad.append(f"not drophook's ({entry.get('_COMM')}): {message}")
    for line in bad:
        print("journal: " + line, file=sys.stderr)
    if count == 0:
        print("journal: no entries at all", file=sys.stderr)
        sys.exit(1)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
