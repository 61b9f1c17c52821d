#!/bin/sh
# Replaces the machine's ed25519 SSH host key with one the operator generated, then has sshd present it
# to every new connection (connections already open keep theirs). The operator runs it as root (sudo -n)
# once it has verified the key the instance's user data carried, so that key, which anyone allowed
# ec2:DescribeInstanceAttribute can read, is worthless from then on.
#
#   sudo -n /bin/sh replace-host-key.sh 'ssh-ed25519 AAAA...' < private-key
#
# The private key arrives on standard input (an argument would show in the process list), the public
# line as $1. Idempotent: run again, it writes the same key and reloads sshd again. Exit status: 0 done;
# 2 the input is not the key pair it claims to be; 3 the key is written but no sshd was found to reload;
# anything else a command that failed (its message on stderr).
#
# Only the ed25519 key is replaced: it is the one the user data carried and the one the operator asks
# for. Keys of other types the image may generate at boot never left the machine.
#
# Test hook: TRAININGJOB_SSHD_ROOT, set only where a test plays the machine (the fake EC2's instances),
# is put in front of /etc/ssh, and sshd is not reloaded: the fake's SSH server reads the key file when
# it changes. Never set on a machine (sudo would drop it anyway).
set -eu

public=${1:?usage: replace-host-key.sh PUBLIC-KEY-LINE < PRIVATE-KEY}
root=${TRAININGJOB_SSHD_ROOT:-}
dir=$root/etc/ssh
key=$dir/ssh_host_ed25519_key

umask 077
mkdir -p "$dir"
tmp=$(mktemp "$dir/.ssh_host_ed25519_key.XXXXXX")
trap 'rm -f "$tmp" "$tmp.pub"' EXIT
cat > "$tmp"
if ! grep -q -- '-----BEGIN OPENSSH PRIVATE KEY-----' "$tmp"; then
  echo "replace-host-key.sh: no OpenSSH private key on standard input" >&2
  exit 2
fi
case $public in
  ssh-ed25519\ *) ;;
  *) echo "replace-host-key.sh: not an ed25519 public key: $public" >&2; exit 2 ;;
esac
if command -v ssh-keygen >/dev/null 2>&1; then
  # a key sshd can load, whose public half is the one the operator will expect from now on
  derived=$(ssh-keygen -y -f "$tmp" | cut -d' ' -f1-2)
  if [ "$derived" != "$(printf '%s\n' "$public" | cut -d' ' -f1-2)" ]; then
    echo "replace-host-key.sh: the private key on standard input does not match the public key given" >&2
    exit 2
  fi
fi
printf '%s\n' "$public" > "$tmp.pub"
chmod 600 "$tmp"
chmod 644 "$tmp.pub"
# each rename is atomic: sshd never reads half a key
mv -f "$tmp.pub" "$key.pub"
mv -f "$tmp" "$key"
trap - EXIT
if command -v restorecon >/dev/null 2>&1; then
  restorecon "$key" "$key.pub" || true # SELinux images label /etc/ssh; a key written elsewhere and moved keeps the wrong label
fi

[ -z "$root" ] || exit 0

# a configuration sshd refuses would lock everyone out at the reload: check it first
sshd=$(command -v sshd || echo /usr/sbin/sshd)
"$sshd" -t
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for unit in ssh.service sshd.service; do
    if systemctl is-active --quiet "$unit"; then
      systemctl reload "$unit"
      exit 0
    fi
  done
fi
for pidfile in /run/sshd.pid /var/run/sshd.pid; do
  if [ -s "$pidfile" ]; then
    kill -HUP "$(cat "$pidfile")"
    exit 0
  fi
done
echo "replace-host-key.sh: wrote the new host key, but found no running sshd to reload" >&2
exit 3
