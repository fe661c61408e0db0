#!/bin/bash
# What a user would script instead of drophook: inotifywait in monitor mode, one curl per
# finished file. Unsigned and without retries; it is here to be measured, not used.
# usage: inotifywait-curl.sh DIRECTORY URL
set -u
dir=$1 url=$2
inotifywait -m -r -e close_write -e moved_to --format '%w%f' "$dir" |
while IFS= read -r path; do
    rel=${path#"$dir"/}
    curl -s -o /dev/null -H 'Content-Type: application/json' \
        --data-binary "{\"path\":\"$rel\"}" "$url"
done
