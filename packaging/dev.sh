#!/usr/bin/env bash
# Developer entry points on Debian 12 with the Swift toolchain:
#   packaging/dev.sh demo   install what is missing, build, run the agent on etc/drophook.yaml
#                           with a local receiver, and drop a file so a signed webhook shows up
#   packaging/dev.sh test   install what is missing, build and run the whole test suite, then a
#                           10-second libFuzzer run of every fuzz target
#   packaging/dev.sh package-test
#                           build the .deb (and the previous release's), boot Debian 12 with
#                           systemd in systemd-nspawn, install it with apt and run the service's
#                           user story against it (packaging/systemd-test/run; needs root)
#   packaging/dev.sh deps   only install what is missing
#   packaging/dev.sh format apply the code style of .swift-format (the test run checks it)
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the build and the tests need: libcurl (HTTP client), libcrypto (signatures),
# SQLite (outbox), libsystemd (the session log's journal source; systemd-journal-remote writes the
# test journals), OpenSSH and paramiko (sftp end-to-end tests), openssl and python3 (TLS test servers),
# nghttpd (HTTP/2 test server), pip and Node.js (receivers' own verification code in the signature tests).
# bindfs mounts a FUSE file system for the remote-file-system warning test; libnats (the NATS C
# client) and nats-server (JetStream on loopback in the tests) for the NATS publisher.
packages=(libcurl4-openssl-dev libssl-dev libsqlite3-dev libsystemd-dev systemd-journal-remote bindfs libnats-dev nats-server openssh-server openssh-client openssl python3 python3-paramiko python3-pip nodejs pkg-config nghttp2-server)
# Receivers' own verification libraries, from PyPI, that the signature tests run unchanged;
# kept beside the build, never in the system's Python.
python_packages=(standardwebhooks==1.1.0 cloudevents==1.11.0 deprecation==2.1.0 packaging==24.2)

# What the package test adds: debootstrap makes the Debian 12 root, systemd-container boots it
# (systemd-nspawn), lintian checks the package as it is built.
package_test_packages=(debootstrap systemd-container lintian)

install_missing() {
    local missing=()
    for package in "${packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_python_packages() {
    local target=.build/test-python
    [ -f "$target/.installed" ] && [ "$(cat "$target/.installed")" = "${python_packages[*]}" ] && return 0
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$target" --upgrade "${python_packages[@]}"
    echo "${python_packages[*]}" > "$target/.installed"
}

listener=""
agent=""
stop_demo() {
    [ -n "$agent" ] && kill "$agent" 2>/dev/null
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    wait 2>/dev/null || true
}

demo() {
    install_missing
    swift build
    local bin
    bin="$(swift build --show-bin-path)/drophook"
    mkdir -p /tmp/drophook-demo/drop /tmp/drophook-demo/state
    # The sample config takes its secrets from the environment: a secret written in a config file
    # that every user can read (as a fresh clone's is) makes run refuse to start.
    export DROPHOOK_DEMO_SECRET=demo-secret DROPHOOK_DEMO_TOKEN=demo-token
    "$bin" check --config etc/drophook.yaml
    trap stop_demo EXIT
    trap 'exit 130' INT TERM
    "$bin" listen --port 8787 --secret demo-secret &
    listener=$!
    "$bin" run --config etc/drophook.yaml &
    agent=$!
    "$bin" status --config etc/drophook.yaml --wait 30s
    kill -0 "$listener" 2>/dev/null || { echo "the receiver could not start (is port 8787 taken?)" >&2; exit 1; }
    echo "hello from drophook" > /tmp/drophook-demo/drop/hello.txt
    echo
    echo "drophook is watching /tmp/drophook-demo/drop; the receiver prints each verified webhook."
    echo "Drop more files there from another terminal; Ctrl-C stops both."
    wait "$agent"
}

# The style the tree is kept in (.swift-format): checked, not remembered. `dev.sh format` applies it.
swift_sources=(Sources Tests Package.swift)

check_style() {
    swift format lint --strict --recursive --parallel "${swift_sources[@]}" \
        || { echo "the code above is not in the style of .swift-format; run packaging/dev.sh format" >&2; exit 1; }
}

run_tests() {
    install_missing
    install_python_packages
    check_style
    swift build --build-tests
    # A bound on the whole run, so a hung test fails the run instead of stalling it.
    # Serially: the suites start real agents, sshd and HTTP servers and time their answers;
    # run side by side on a small machine they would starve each other of CPU.
    timeout --kill-after=30s 25m swift test --no-parallel 2>&1 | tee .build/test-output.log
    # Every skipped test, by name and reason: outside CI a missing server or root skips its
    # tests; in CI only the allow-listed ones may (see .ci/run).
    echo "skipped tests: $(grep -c ' skipped' .build/test-output.log || true)"
    grep ' skipped' .build/test-output.log || true
    # A short libFuzzer smoke run of every fuzz target (fuzz/run; a longer one on demand).
    timeout --kill-after=30s 15m fuzz/run all 10
}

package_test() {
    install_missing "${package_test_packages[@]}"
    # Two release builds, a debootstrap on the first run, and a 60 s watchdog wait: bounded as a whole.
    timeout --kill-after=30s 40m packaging/systemd-test/run
}

case "${1:-}" in
    demo) demo ;;
    test) run_tests ;;
    package-test) package_test ;;
    deps) install_missing; install_python_packages ;;
    format) swift format format --in-place --recursive --parallel "${swift_sources[@]}" ;;
    *) echo "usage: packaging/dev.sh demo|test|package-test|deps|format" >&2; exit 2 ;;
esac
