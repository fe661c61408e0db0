#!/usr/bin/env bash
# Builds drophook_<version>_<arch>.deb from a release build with the Swift runtime linked in,
# so the target machine needs only Debian's libcurl, libssl, libsqlite3 and libsystemd.
# With the man page and shell completions generated from the command definitions, and checked
# by lintian when it is installed.
#
#   DROPHOOK_DEB_BARE=1  no man page and no lintian: the package test's build of an earlier
#                        release, where only the binary, the unit and the maintainer scripts matter
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(grep -o '"[0-9][^"]*"' Sources/DrophookAgent/AgentVersion.swift | tr -d '"')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# mktemp makes the folder 0700; it becomes the package's "./" entry.
chmod 0755 "$stage"
# Reproducible dates: the man page's and the changelog's.
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)

swift build -c release --static-swift-stdlib --product drophook
binary="$(swift build -c release --show-bin-path)/drophook"
install -D -m 0755 "$binary" "$stage/usr/bin/drophook"
# Debug info is most of the binary's size; keep it out of the package.
strip --strip-unneeded "$stage/usr/bin/drophook"
install -D -m 0644 packaging/systemd/drophook.service "$stage/lib/systemd/system/drophook.service"
# Shipped world-readable as Debian expects; postinst narrows both to the drophook group.
install -D -m 0644 etc/drophook.reference.yaml "$stage/etc/drophook/drophook.yaml"
install -d -m 0755 "$stage/var/lib/drophook"
install -D -m 0644 README.md "$stage/usr/share/doc/drophook/README.md"
for doc in docs/*.md; do install -D -m 0644 "$doc" "$stage/usr/share/doc/drophook/$(basename "$doc")"; done
install -D -m 0644 packaging/debian/copyright "$stage/usr/share/doc/drophook/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$stage/usr/share/lintian/overrides/drophook"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u -d "$date" -R)/" packaging/debian/changelog \
    | gzip -9n > "$stage/usr/share/doc/drophook/changelog.gz"
chmod 0644 "$stage/usr/share/doc/drophook/changelog.gz"

bare=${DROPHOOK_DEB_BARE:-0}
if [ "$bare" != 1 ]; then
    # The man page, from the command definitions (swift-argument-parser's generate-manual
    # plugin). The plugin builds every product of the package first: in debug, where the test
    # build has usually built them already, rather than a second release build of everything
    # (the help text is the same).
    swift package --allow-writing-to-package-directory generate-manual --configuration debug --date "$date" \
        --authors "drophook maintainers<maintainers@drophook.dev>" >/dev/null
    install -d -m 0755 "$stage/usr/share/man/man1"
    gzip -9n < .build/plugins/GenerateManual/outputs/drophook/drophook.1 > "$stage/usr/share/man/man1/drophook.1.gz"
    chmod 0644 "$stage/usr/share/man/man1/drophook.1.gz"
fi
# Completions, likewise from the command definitions.
install -d -m 0755 "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no #! line.
"$binary" --generate-completion-script bash | sed '1{/^#!/d}' > "$stage/usr/share/bash-completion/completions/drophook"
"$binary" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_drophook"
"$binary" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/drophook.fish"
chmod 0644 "$stage"/usr/share/bash-completion/completions/drophook "$stage"/usr/share/zsh/vendor-completions/_drophook \
    "$stage"/usr/share/fish/vendor_completions.d/drophook.fish

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/debian/control > "$stage/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst "$stage/DEBIAN/postinst"
install -m 0755 packaging/debian/prerm "$stage/DEBIAN/prerm"
install -m 0755 packaging/debian/postrm "$stage/DEBIAN/postrm"

package="drophook_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$package"
if [ "$bare" != 1 ] && command -v lintian >/dev/null; then
    # The package's own overrides (usr/share/lintian/overrides/drophook) say why a tag does not apply.
    lintian --fail-on error,warning "$package"
fi
