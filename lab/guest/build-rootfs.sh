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

# A log of what SSH sessions run, for tests (bash-env, lab-commands): Debian's bash sources
# /etc/bash.bashrc for a command sshd hands it, before the file's interactive-only return.
if ! grep -q lab/bash-env /etc/bash.bashrc; then
	{
		echo '[ -r /usr/local/lib/lab/bash-env ] && . /usr/local/lib/lab/bash-env'
		cat /etc/bash.bashrc
	} >/etc/bash.bashrc.lab
	mv /etc/bash.bashrc.lab /etc/bash.bashrc
fi

# hostname varies per lab: /etc/hosts is written at boot into tmpfs.
ln -sf /run/lab/hosts /etc/hosts
: > /etc/resolv.conf
echo lab > /etc/hostname
mkdir -p /lib/modules /var/lib/sudo /home
rm -f /etc/ssh/sshd_config.d/*.conf /etc/motd

