#!/usr/bin/env python3
"""Asserts over what `drophook listen --json` received (one JSON object a line).

    webhooks.py LOG has PATH...            each file has reached both endpoints
    webhooks.py LOG actor PATH USER SIZE   both vendor shapes name USER and SIZE for PATH, signed
    webhooks.py LOG all PATH...            the files delivered are exactly these; a repeat is
                                           the same event (at least once), never a second one
    webhooks.py LOG once PATH...           as all, and each event arrived once per endpoint
    webhooks.py LOG dump                   prints what arrived

The SFTP To Go body names the path (Data.Path); a Rilavek body names only the file, so it is
matched to its SFTP To Go twin by the event id both carry in X-Drophook-Event-Id.
"""
import json
import sys
from collections import defaultdict


def load(path):
    hooks = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            raw = json.loads(line)
            headers = {name.lower(): value for name, value in raw["headers"]}
            body = json.loads(raw["body"]) if "body" in raw else None
            hooks.append({"endpoint": raw["path"], "id": headers.get("x-drophook-event-id"),
                          "verified": raw.get("verified"), "body": body})
    return hooks


def files(hooks):
    """path -> {endpoint -> [webhooks]}, for file events (not directories, not pings)."""
    by_id = {}
    for hook in hooks:
        if hook["endpoint"] == "/sftptogo" and hook["body"].get("Topic", "").startswith("file."):
            path = hook["body"]["Data"]["Path"]
            if not path.endswith("/"):
                by_id[hook["id"]] = path
    result = defaultdict(lambda: defaultdict(list))
    for hook in hooks:
        path = by_id.get(hook["id"])
        if path is not None:
            result[path][hook["endpoint"]].append(hook)
    return result


def fail(message, hooks):
    print("webhooks: " + message, file=sys.stderr)
    sys.exit(1)


def main():
    log, check, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    hooks = load(log)
    delivered = files(hooks)
    if check == "dump":
        for hook in hooks:
            print(hook["endpoint"], hook["id"], json.dumps(hook["body"], sort_keys=True))
        return
    if check == "has":
        missing = [path for path in args if not (delivered[path]["/sftptogo"] and delivered[path]["/rilavek"])]
        if missing:
            fail("not yet on both endpoints: " + " ".join(missing), hooks)
        return
    if check == "actor":
        path, user, size = args[0], args[1], int(args[2])
        for hook in delivered[path]["/sftptogo"]:
            body = hook["body"]
            if body["Actor"]["Id"] != user or body["Data"]["Size"] != size or hook["verified"] is not True:
                fail(f"SFTP To Go webhook for {path}: Actor.Id {body['Actor']['Id']!r}, Size {body['Data']['Size']}, "
                     f"verified {hook['verified']}; expected {user!r}, {size}, true", hooks)
        for hook in delivered[path]["/rilavek"]:
            data = hook["body"]["data"]
            if data["sender"] != user or data["size"] != size or data["status"] != "transferred" or hook["verified"] is not True:
                fail(f"Rilavek webhook for {path}: sender {data['sender']!r}, size {data['size']}, status {data['status']}, "
                     f"verified {hook['verified']}; expected {user!r}, {size}, transferred, true", hooks)
        return
    if check in ("all", "once"):
        expected = set(args)
        got = set(delivered)
        if got != expected:
            fail(f"delivered files differ: missing {sorted(expected - got)}, not expected {sorted(got - expected)}", hooks)
        for path, endpoints in delivered.items():
            for endpoint in ("/sftptogo", "/rilavek"):
                ids = [hook["id"] for hook in endpoints[endpoint]]
                if len(set(ids)) != 1:
                    fail(f"{path} on {endpoint}: {len(set(ids))} different events {sorted(set(ids))}", hooks)
                if check == "once" and len(ids) != 1:
                    fail(f"{path} on {endpoint}: delivered {len(ids)} times", hooks)
        return
    fail("unknown check " + check, hooks)


if __name__ == "__main__":
    main()
