#!/usr/bin/env bash
# Installs the Debian package on this machine, uses it as a newcomer would from the README, and removes it:
# the command and its version, a decoded capture, the man pages, completions that load, the service unit
# installed but not enabled, the defaults file kept as a conffile; then removal and purge leave nothing behind.
# Needs root (CI runs as root).
#
#   tools/package-test.sh dist/smppscope_VERSION_ARCH.deb
set -euo pipefail
deb=${1:?usage: tools/package-test.sh PACKAGE.deb}
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "installing a package needs root" >&2; exit 1; }
fail() { echo "package test: $*" >&2; exit 1; }
if dpkg -s smppscope >/dev/null 2>&1; then fail "smppscope is already installed; remove it first"; fi
trap 'dpkg -P smppscope >/dev/null 2>&1 || true' EXIT

# Its dependencies are what a Debian machine has or apt installs beside it.
apt-get install -y -qq "$deb" >/dev/null 2>&1 || dpkg -i "$deb" >/dev/null
version=$(dpkg-deb -f "$deb" Version)

[ "$(command -v smppscope)" = /usr/bin/smppscope ] || fail "smppscope is not on the PATH"
[ "$(smppscope --version)" = "$version" ] || fail "--version says $(smppscope --version), the package $version"

# The README's first step after installing: a capture that comes with the package.
out=$(cd / && smppscope decode /usr/share/doc/smppscope/examples/smpplib_smsckz_port3700.pcap)
grep -q "submit_sm_resp" <<<"$out" || fail "decode of the bundled capture shows no submit_sm_resp"
pdus=$(smppscope decode /usr/share/doc/smppscope/examples/smpplib_smsckz_port3700.pcap --format jsonl | wc -l)
[ "$pdus" -gt 10 ] || fail "decode --format jsonl gave $pdus lines"
smppscope analyze /usr/share/doc/smppscope/examples/kannel_simulator_port3701.pcap --format json >/dev/null

# Man pages, one per subcommand, with the version in their footer.
page=$(man -w smppscope) || fail "man -w smppscope found nothing"
[ "$page" = /usr/share/man/man1/smppscope.1.gz ] || fail "man -w smppscope: $page"
for sub in decode analyze import export sessions record replay simulate prune anonymize profile trace serve; do
    man -w "smppscope-$sub" >/dev/null || fail "no man page for smppscope-$sub"
done
zcat /usr/share/man/man1/smppscope-record.1.gz | grep -q "^\.Os smppscope $version" ||
    fail "the man page does not carry the version"
MANWIDTH=80 man smppscope-anonymize 2>/dev/null | grep -q -- "--keep-digits" || fail "man smppscope-anonymize"

# Completions: bash loads its script, and its completion function offers the subcommands.
words=$(bash -c 'source /usr/share/bash-completion/completions/smppscope
    COMP_WORDS=(smppscope an); COMP_CWORD=1; COMP_LINE="smppscope an"; COMP_POINT=${#COMP_LINE}
    _smppscope 2>/dev/null || true; echo "${COMPREPLY[*]}"')
for sub in decode anonymize record; do grep -qw "$sub" <<<"$words" || fail "bash completion offered: $words"; done
[ -s /usr/share/zsh/vendor-completions/_smppscope ] || fail "no zsh completion"
[ -s /usr/share/fish/vendor_completions.d/smppscope.fish ] || fail "no fish completion"

# The service: installed, not enabled, its options in a conffile that names `record`'s options.
[ -f /lib/systemd/system/smppscope-record.service ] || fail "no unit"
[ ! -e /etc/systemd/system/multi-user.target.wants/smppscope-record.service ] || fail "the unit was enabled"
grep -q '^ExecStart=/usr/bin/smppscope record \$SMPPSCOPE_RECORD_OPTIONS$' /lib/systemd/system/smppscope-record.service ||
    fail "the unit's ExecStart"
dpkg-query -W -f='${Conffiles}\n' smppscope | grep -q /etc/default/smppscope-record || fail "defaults not a conffile"
# The options the defaults file sets are ones record takes (parsed, not run: --help after them).
# shellcheck disable=SC1091
. /etc/default/smppscope-record
# shellcheck disable=SC2086
smppscope record $SMPPSCOPE_RECORD_OPTIONS --help >/dev/null || fail "record rejects the defaults' options"
if command -v systemd-analyze >/dev/null; then
    said=$(systemd-analyze verify /lib/systemd/system/smppscope-record.service 2>&1) ||
        fail "systemd-analyze verify: $said"
fi

# Removal takes the files; purge the conffile too.
dpkg -r smppscope >/dev/null
[ ! -e /usr/bin/smppscope ] || fail "the binary stayed after removal"
[ -e /etc/default/smppscope-record ] || fail "removal took the conffile (only purge should)"
dpkg -P smppscope >/dev/null
[ ! -e /etc/default/smppscope-record ] || fail "purge left the conffile"
! man -w smppscope >/dev/null 2>&1 || fail "the man page stayed"
trap - EXIT
echo "package test: $(basename "$deb") installs, decodes, has its man pages and completions, and removes cleanly"
