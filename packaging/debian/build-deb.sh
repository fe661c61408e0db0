#!/usr/bin/env bash
# Builds drophook_<version>_<arch>.deb from a release build with the Swift runtime linked in,
# so the target machine needs only Debian's libcurl, libssl and libsqlite3.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(grep -o '"[0-9][^"]*"' Sources/DrophookAgent/AgentVersion.swift | tr -d '"')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# mktemp makes the folder 0700; it becomes the package's "./" entry.
chmod 0755 "$stage"

swift build -c release --static-swift-stdlib --product drophook
install -D -m 0755 "$(swift build -c release --show-bin-path)/drophook" "$stage/usr/bin/drophook"
# Debug info is most of the binary's size; keep it out of the package.
strip --strip-unneeded "$stage/usr/bin/drophook"
install -D -m 0644 packaging/systemd/drophook.service "$stage/lib/systemd/system/drophook.service"
install -D -m 0640 etc/drophook.reference.yaml "$stage/etc/drophook/drophook.yaml"
install -d -m 0750 "$stage/var/lib/drophook"
install -D -m 0644 README.md "$stage/usr/share/doc/drophook/README.md"

mkdir -p "$stage/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" packaging/debian/control > "$stage/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst "$stage/DEBIAN/postinst"
install -m 0755 packaging/debian/prerm "$stage/DEBIAN/prerm"

dpkg-deb --root-owner-group --build "$stage" "drophook_${version}_${arch}.deb"
