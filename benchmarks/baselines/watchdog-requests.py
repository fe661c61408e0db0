#!/usr/bin/python3
"""What a user would script instead of drophook: Python watchdog plus requests, one POST per
finished file over a kept-alive session. Unsigned and without retries; it is here to be
measured, not used. usage: watchdog-requests.py DIRECTORY URL"""
import json
import os
import sys
import time

import requests
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

root, url = sys.argv[1], sys.argv[2]
session = requests.Session()


class Handler(FileSystemEventHandler):
    def on_closed(self, event):
        if not event.is_directory:
            self.post(event.src_path)

    def on_moved(self, event):
        if not event.is_directory:
            self.post(event.dest_path)

    def post(self, path):
        body = json.dumps({"path": os.path.relpath(path, root)})
        session.post(url, data=body, headers={"Content-Type": "application/json"})


observer = Observer()
observer.schedule(Handler(), root, recursive=True)
observer.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(1)
finally:
    observer.stop()
