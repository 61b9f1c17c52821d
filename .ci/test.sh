#!/usr/bin/env bash
# The test command for a fresh machine: install what the tests need from Debian when it is
# missing (GNU screen, OpenSSH's sshd, kubectl, tmux), then run every test with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v screen >/dev/null 2>&1 || missing+=(screen)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# the demo and attach are tested in a real terminal (tmux); the local provider gives attach a terminal with script(1)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
# the probe is tested with both awks images ship: mawk (Debian's and Ubuntu's default) and gawk
command -v gawk >/dev/null 2>&1 || missing+=(gawk)
[ -x /usr/bin/mawk ] || missing+=(mawk)
# venv bootstrap tests run the system python3 over OpenSSH; Debian ships venv support separately
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -n"
  $sudo_cmd apt-get update -qq
  awk_before=$(readlink -f "$(command -v awk 2>/dev/null || echo /usr/bin/mawk)")
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # installing gawk makes it the machine's awk; the machine keeps the one it had
  if [ "$awk_before" = /usr/bin/mawk ] && command -v update-alternatives >/dev/null 2>&1; then
    $sudo_cmd update-alternatives --set awk /usr/bin/mawk >/dev/null
  fi
fi

exec mvn -B verify "$@"
