#!/bin/sh
# Runs as root inside a lab guest (lab.sh pipes it over ssh once the guest is ready): adds
# "lvsconsole", a login with only the sudoers lines of docs/sudo.md ($1: those lines), so
# a test can run the console as the least-privileged user it documents. The rootfs is
# shared and read-only: passwd, group, shadow, sudoers.d and the authorized keys become
# tmpfs copies bound over the originals (useradd cannot rename onto a bind mount, so the
# entries are appended by hand). The guest's own files stay untouched for every other lab.
set -e
u=lvsconsole
uid=990
id "$u" >/dev/null 2>&1 && exit 0
d=/run/lab/least-privilege
mkdir -p "$d"
for f in passwd group shadow; do
	cp -p "/etc/$f" "$d/$f"
	mount --bind "$d/$f" "/etc/$f"
done
echo "$u:x:$uid:$uid:LVS Console (least privilege):/home/$u:/bin/sh" >> /etc/passwd
echo "$u:x:$uid:" >> /etc/group
echo "$u:*:20000:0:99999:7:::" >> /etc/shadow
mkdir -p "$d/sudoers.d" "$d/authorized_keys"
cp -a /etc/sudoers.d/. "$d/sudoers.d/"
printf '%s\n' "$1" > "$d/sudoers.d/$u"
# The lab's only: sudo's own log of what it ran, so the test can show no shell ran as root.
echo "Defaults:$u logfile=/var/log/sudo-$u.log" >> "$d/sudoers.d/$u"
chmod 0440 "$d/sudoers.d/$u"
visudo -cq -f "$d/sudoers.d/$u"
mount --bind "$d/sudoers.d" /etc/sudoers.d
cp -a /etc/ssh/authorized_keys/. "$d/authorized_keys/"
cp -p /etc/ssh/authorized_keys/root "$d/authorized_keys/$u"
mount --bind "$d/authorized_keys" /etc/ssh/authorized_keys
mkdir -p "/home/$u"
chown "$u:$u" "/home/$u"
# The lock changes take (docs/sudo.md: a tmpfiles.d line on a real director).
: >> /run/lvs-console.lock
chmod 0644 /run/lvs-console.lock
