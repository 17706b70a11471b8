#!/bin/sh
# Runs inside the freshly debootstrapped rootfs (chroot) to turn it into the lab director.
# Host keys and the client key are copied in by lab.sh before this runs.
set -e
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# busybox init (minbase has no init); `busybox poweroff` stops the guest.
ln -sf /bin/busybox /sbin/init

# A non-root operator with passwordless sudo, for the console's `sudo -n` mode.
# '*' (not '!'): the account is not locked, it just has no password.
id lvs >/dev/null 2>&1 || useradd -m -d /home/lvs -s /bin/bash lvs
usermod -p '*' lvs
usermod -p '*' root
echo 'lvs ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/lvs
chmod 0440 /etc/sudoers.d/lvs

# hostname varies per lab: /etc/hosts is written at boot into tmpfs.
ln -sf /run/lab/hosts /etc/hosts
: > /etc/resolv.conf
echo lab > /etc/hostname
mkdir -p /lib/modules /var/lib/sudo /home
rm -f /etc/ssh/sshd_config.d/*.conf /etc/motd

