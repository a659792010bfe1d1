#!/usr/bin/env bash
# The Debian package: cpack -G DEB builds gapwatch_<version>_amd64.deb with the
# binary, a conffile configuration, a hardened systemd unit, computed Depends
# and a man page; unpacked into a temporary root, the binary runs from there
# and validates the shipped configuration; systemd-analyze accepts the unit.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build_dir=${GAPWATCH_BUILD_DIR:?run through ctest}

(cd "$build_dir" && cpack -G DEB -B "$work/package" >"$work/cpack.log" 2>&1)
check "cpack -G DEB succeeds" test $? -eq 0
deb=$(ls "$work"/package/gapwatch_*_amd64.deb 2>/dev/null | head -1)
check "the package is named gapwatch_<version>_amd64.deb" test -n "$deb"
version=$("$gapwatch" --version | awk '{print $2}')
check "its version is the binary's ($version)" test "$(basename "$deb")" = "gapwatch_${version}_amd64.deb"

dpkg-deb -I "$deb" >"$work/info"
check "Depends is computed (dpkg-shlibdeps: ODBC, yaml-cpp, sqlite) plus libcurl4, which is loaded at run time" \
  bash -c "grep '^ Depends:' '$work/info' | grep -q 'libodbc2' && grep '^ Depends:' '$work/info' | grep -q 'libyaml-cpp' && grep '^ Depends:' '$work/info' | grep -q 'libcurl4' && grep '^ Depends:' '$work/info' | grep -q 'libsqlite3'"
check "ODBC drivers are recommended" grep -q '^ Recommends: odbc-postgresql' "$work/info"
mkdir -p "$work/control" && dpkg-deb -e "$deb" "$work/control"
check "/etc/gapwatch/gapwatch.yaml is a conffile" grep -qx '/etc/gapwatch/gapwatch.yaml' "$work/control/conffiles"

root=$work/root
dpkg-deb -x "$deb" "$root"
for file in usr/bin/gapwatch etc/gapwatch/gapwatch.yaml usr/lib/systemd/system/gapwatch.service \
            usr/share/man/man1/gapwatch.1.gz usr/share/doc/gapwatch/README.md \
            usr/share/doc/gapwatch/docs/configuration.md usr/share/doc/gapwatch/examples/prometheus/alerts.yml; do
  check "ships /$file" test -e "$root/$file"
done
check "the binary is stripped" bash -c "file '$root/usr/bin/gapwatch' | grep -q ', stripped'"
check "the unpacked binary runs" "$root/usr/bin/gapwatch" --version
check "it validates the shipped configuration" "$root/usr/bin/gapwatch" validate -c "$root/etc/gapwatch/gapwatch.yaml"
check "the man page renders" bash -c "zcat '$root/usr/share/man/man1/gapwatch.1.gz' | groff -man -Tutf8 -ww >/dev/null 2>'$work/groff.err' && test ! -s '$work/groff.err'"

unit=$root/usr/lib/systemd/system/gapwatch.service
for setting in DynamicUser=yes StateDirectory=gapwatch ProtectSystem=strict NoNewPrivileges=yes \
               'ExecReload=/bin/kill -HUP $MAINPID' 'ExecStart=/usr/bin/gapwatch run -c /etc/gapwatch/gapwatch.yaml'; do
  check "the unit sets $setting" grep -qxF "$setting" "$unit"
done
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's binary exists: point it at the unpacked one.
  sed "s|/usr/bin/gapwatch|$root/usr/bin/gapwatch|g" "$unit" >"$work/gapwatch.service"
  # (--man=no: the man page is in the unpacked root, not installed here.)
  systemd-analyze verify --man=no "$work/gapwatch.service" >"$work/verify.log" 2>&1
  check "systemd-analyze verify accepts the unit" test $? -eq 0
  sed 's/^/  | /' "$work/verify.log"
else
  fail "systemd-analyze is not installed (scripts/bootstrap installs systemd)"
fi

finish
