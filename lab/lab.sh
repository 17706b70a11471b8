#!/usr/bin/env bash
# lab/lab.sh: a real LVS-NAT director for tests, as a User-mode Linux guest.
#
#   bash lab/lab.sh up     [--name NAME] [--port PORT] [--timeout SECONDS] [--mem SIZE]
#   bash lab/lab.sh up --ha --name NAME --port PORT   (keepalived pair NAME-a :PORT, NAME-b :PORT+1)
#   bash lab/lab.sh down   [--name NAME]
#   bash lab/lab.sh status [--name NAME]
#   bash lab/lab.sh ssh    [--name NAME] [--user USER] -- CMD ...   (NAME-a, NAME-b, NAME-net)
#   bash lab/lab.sh fault  [--name NAME] [--director a|b] FAULT on|off | status   (lab-fault, HA too)
#
# The host kernel has no IPVS, so the director is a UML guest (Linux 6.1 with IPVS modules)
# booted from a shared read-only debootstrapped rootfs. Its only link is a tap device in a
# host network namespace of its own (no routes, nothing else in it); sshd is reachable only
# as 127.0.0.1:PORT through two socat processes. See lab/README.md.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$LAB_DIR")
STATE_DIR=$REPO_DIR/.lab
CACHE_DIR=$STATE_DIR/cache
KEY_DIR=$CACHE_DIR/keys
RUN_ROOT=$STATE_DIR/run

HOST_PKGS=(debootstrap socat iproute2 openssh-client patchelf curl xz-utils gpgv debian-archive-keyring)
GUEST_PKGS=ipvsadm,openssh-server,iproute2,kmod,busybox,curl,procps,iptables,nftables,socat,netbase,sudo,keepalived
SUITE=bookworm
MIRROR=${LAB_MIRROR:-http://deb.debian.org/debian}
# Bump when the build steps in this file change in a way the rootfs must follow.
BUILD_VERSION=1
# The UML kernel comes from Debian testing, not bookworm: bookworm's 6.1 (and trixie's 6.12)
# UML cannot run a single guest process on hosts whose CPUs have AMX (their XSTATE area is
# larger than UML's fixed FP buffer: "ptrace set fp regs failed, errno = 14", init dies with
# SIGSEGV). Newer UML sizes that buffer from the host. It needs glibc >= 2.38, so it runs
# with that suite's libc from a private directory (patchelf), leaving the host's alone.
UML_SUITE=${LAB_UML_SUITE:-forky}
UML_DEBS=(user-mode-linux libc6)
UML=
UML_MODULES=
NS_ADDR=192.168.250.1/30
GUEST_ADDR=192.168.250.2

NAME=lab
PORT=2222
TIMEOUT=120
MEM=384M
USER_NAME=root
HA=0
DIRECTOR=a
CMD=()

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$1" >&2; exit "${2:-1}"; }

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--name) [ $# -ge 2 ] || usage; NAME=$2; shift 2 ;;
		--name=*) NAME=${1#*=}; shift ;;
		--port) [ $# -ge 2 ] || usage; PORT=$2; shift 2 ;;
		--port=*) PORT=${1#*=}; shift ;;
		--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
		--timeout=*) TIMEOUT=${1#*=}; shift ;;
		--mem) [ $# -ge 2 ] || usage; MEM=$2; shift 2 ;;
		--mem=*) MEM=${1#*=}; shift ;;
		--user) [ $# -ge 2 ] || usage; USER_NAME=$2; shift 2 ;;
		--user=*) USER_NAME=${1#*=}; shift ;;
		--ha) HA=1; shift ;;
		--director) [ $# -ge 2 ] || usage; DIRECTOR=$2; shift 2 ;;
		--director=*) DIRECTOR=${1#*=}; shift ;;
		--) shift; CMD=("$@"); break ;;
		-h|--help) usage ;;
		*) if [ "$SUBCMD" = ssh ] || [ "$SUBCMD" = fault ]; then CMD=("$@"); break; fi
		   die "unknown argument: $1 (see --help)" 2 ;;
		esac
	done
	[[ $NAME =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "bad --name '$NAME' (a-z, 0-9, '-', up to 31 chars)" 2
	[[ $PORT =~ ^[0-9]{1,5}$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "bad --port '$PORT'" 2
	[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "bad --timeout '$TIMEOUT'" 2
	[[ $MEM =~ ^[0-9]+[MG]$ ]] || die "bad --mem '$MEM' (e.g. 384M)" 2
	NS=lvslab-$NAME
	RUN_DIR=$RUN_ROOT/$NAME
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (UML networking needs network namespaces and a tap device)"; }

# ---- processes: recorded as "PID STARTTIME" so a recycled PID is never mistaken for ours ----

proc_starttime() { # PID -> field 22 of /proc/PID/stat
	local line rest
	line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo "${20}"
}

record_pid() { # FILE PID
	local st
	st=$(proc_starttime "$2") || st=0
	echo "$2 $st" > "$1"
}

pidfile_alive() { # FILE -> prints PID if that process still runs
	local pid st now
	[ -f "$1" ] || return 1
	read -r pid st < "$1" || return 1
	[ -n "$pid" ] || return 1
	now=$(proc_starttime "$pid") || return 1
	[ "$now" = "$st" ] || return 1
	echo "$pid"
}

# every process whose ancestor or process group is one of the given PIDs (and the PIDs)
proc_tree() {
	local roots=" $* " f line rest pid ppid changed=1
	local -A parent=() group=() keep=()
	for f in /proc/[0-9]*/stat; do
		line=$(cat "$f" 2>/dev/null) || continue
		pid=${line%% *}
		rest=${line##*) }
		# shellcheck disable=SC2086
		set -- $rest
		parent[$pid]=$2
		group[$pid]=$3
	done
	for pid in $roots; do [ -n "${parent[$pid]+x}" ] && keep[$pid]=1; done
	for pid in "${!group[@]}"; do
		[[ $roots == *" ${group[$pid]} "* ]] && keep[$pid]=1
	done
	while [ $changed = 1 ]; do
		changed=0
		for pid in "${!parent[@]}"; do
			[ -n "${keep[$pid]+x}" ] && continue
			ppid=${parent[$pid]}
			if [ -n "${keep[$ppid]+x}" ]; then keep[$pid]=1; changed=1; fi
		done
	done
	echo "${!keep[@]}"
}

# stop the recorded processes of RUN_DIR and everything they started
kill_recorded() {
	local roots=() f pid tree p
	for f in "$RUN_DIR"/*.pid; do
		[ -e "$f" ] || continue
		if pid=$(pidfile_alive "$f"); then
			roots+=("$pid")
		else
			# the leader is gone (e.g. the UML main process was killed), its helpers may
			# not be: orphans keep the group id, which is the recorded PID (setsid)
			read -r pid _ < "$f" || continue
			for p in $(ps -eo pid=,pgid=,comm= | awk -v g="$pid" '$2 == g && ($3 == "linux.uml" || $3 == "socat") { print $1 }'); do
				roots+=("$p")
			done
		fi
	done
	# anything still inside the lab's namespace is ours too (UML threads, socat children)
	if ip netns list 2>/dev/null | grep -qx "$NS\( (id: [0-9]*)\)\{0,1\}"; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do roots+=("$p"); done
	fi
	[ ${#roots[@]} -gt 0 ] || return 0
	tree=$(proc_tree "${roots[@]}")
	[ -n "$tree" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $tree 2>/dev/null || true
	for _ in $(seq 30); do
		local left=""
		for p in $tree; do [ -d "/proc/$p" ] && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $tree 2>/dev/null || true
	sleep 0.2
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$NS"; }

# Namespaces and guest sockets are host-wide, the run state is per checkout: a lab name in
# use by another checkout of the repo must not be torn down from this one.
ns_owner_file() { echo "/run/lvslab/$NAME.owner"; }
refuse_foreign() {
	local f owner
	f=$(ns_owner_file)
	[ -f "$f" ] || return 0
	owner=$(cat "$f" 2>/dev/null || true)
	[ -n "$owner" ] && [ "$owner" != "$STATE_DIR" ] && [ -d "$owner/run/$NAME" ] || return 0
	die "lab name '$NAME' is in use by the checkout at ${owner%/.lab}: 'down' it there, or pick another --name"
}
claim_ns() { mkdir -p /run/lvslab && echo "$STATE_DIR" > "$(ns_owner_file)"; }

port_in_use() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# ---- build: host packages, keys, rootfs ----

ensure_host_pkgs() {
	local p missing=()
	for p in "${HOST_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	mkdir -p "$CACHE_DIR"
	if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}"; } > "$CACHE_DIR/apt.log" 2>&1; then
		tail -n 15 "$CACHE_DIR/apt.log" >&2
		die "apt-get failed installing: ${missing[*]} (log: $CACHE_DIR/apt.log)"
	fi
}

ensure_keys() {
	mkdir -p "$KEY_DIR"
	chmod 700 "$KEY_DIR"
	if [ ! -s "$KEY_DIR/ssh_host_ed25519_key" ] || [ ! -s "$KEY_DIR/ssh_host_ed25519_key.pub" ]; then
		rm -f "$KEY_DIR/ssh_host_ed25519_key" "$KEY_DIR/ssh_host_ed25519_key.pub"
		ssh-keygen -q -t ed25519 -N '' -C lvs-lab-director -f "$KEY_DIR/ssh_host_ed25519_key"
	fi
	if [ ! -s "$KEY_DIR/id_ed25519" ] || [ ! -s "$KEY_DIR/id_ed25519.pub" ]; then
		rm -f "$KEY_DIR/id_ed25519" "$KEY_DIR/id_ed25519.pub"
		ssh-keygen -q -t ed25519 -N '' -C lvs-lab-client -f "$KEY_DIR/id_ed25519"
	fi
	chmod 600 "$KEY_DIR/ssh_host_ed25519_key" "$KEY_DIR/id_ed25519"
}

base_hash() {
	echo "version=$BUILD_VERSION suite=$SUITE mirror=$MIRROR packages=$GUEST_PKGS" | sha256sum | cut -c1-16
}

rootfs_hash() {
	{
		base_hash
		(cd "$LAB_DIR/guest" && for f in $(ls | LC_ALL=C sort); do sha256sum "$f"; done)
		cat "$KEY_DIR/ssh_host_ed25519_key.pub" "$KEY_DIR/id_ed25519.pub"
	} | sha256sum | cut -c1-16
}

umount_under() { # DIR: unmount anything left mounted below it (an interrupted debootstrap)
	local m
	for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

remove_tree() { umount_under "$1"; rm -rf --one-file-system "$1"; }

rootfs_in_use() { # DIR: does a running UML boot from it? (any lab, from any checkout)
	local want f cmd r
	want=$(realpath "$1") || return 1
	for f in /proc/[0-9]*/cmdline; do
		cmd=$(tr '\0' ' ' 2>/dev/null < "$f") || continue
		case $cmd in *linux.uml*rootflags=*) ;; *) continue ;; esac
		r=${cmd#*rootflags=}
		r=${r%% *}
		[ "$(realpath "$r" 2>/dev/null)" = "$want" ] && return 0
	done
	return 1
}

# The debootstrapped system (slow: only when the package list changes) ...
ensure_base() {
	local final tmp t0=$SECONDS
	final=$CACHE_DIR/base-$(base_hash)
	BASE=$final
	[ -f "$final/.lab-base-ok" ] && return 0
	tmp=$final.tmp.$$
	BUILD_TMP=$tmp
	log "debootstrap $SUITE minbase (about 1-2 min): $final"
	if ! debootstrap --variant=minbase --include="$GUEST_PKGS" "$SUITE" "$tmp" "$MIRROR" \
		> "$CACHE_DIR/debootstrap.log" 2>&1; then
		tail -n 15 "$CACHE_DIR/debootstrap.log" >&2
		remove_tree "$tmp"; BUILD_TMP=
		die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"
	fi
	umount_under "$tmp"
	# docs, man pages, locales, apt caches: not needed by a director
	rm -rf "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* \
		"$tmp"/usr/share/locale/* "$tmp"/usr/share/lintian "$tmp"/var/cache/man/* \
		"$tmp"/var/cache/apt/*.bin "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
	date -u +%FT%TZ > "$tmp/.lab-base-ok"
	mv -T "$tmp" "$final"
	BUILD_TMP=
	log "debootstrap done in $((SECONDS - t0)) s"
}

# ... and the lab's own files and keys on a copy of it (fast: whenever lab/guest changes).
ensure_rootfs() {
	local hash final tmp d g t0=$SECONDS
	hash=$(rootfs_hash)
	final=$CACHE_DIR/rootfs-$hash
	ROOTFS=$final
	[ -f "$final/.lab-rootfs-ok" ] && return 0
	exec 8> "$CACHE_DIR/.build.lock"
	flock 8
	[ -f "$final/.lab-rootfs-ok" ] && { exec 8>&-; return 0; }
	for d in "$CACHE_DIR"/*.tmp.*; do
		[ -e "$d" ] && remove_tree "$d"
	done
	ensure_base
	tmp=$final.tmp.$$
	BUILD_TMP=$tmp
	cp -a "$BASE" "$tmp"
	rm -f "$tmp/.lab-base-ok"
	g=$LAB_DIR/guest
	install -m 0755 "$g/lab-init" "$tmp/usr/local/sbin/lab-init"
	install -m 0755 "$g/lab-setup.sh" "$tmp/usr/local/sbin/lab-setup"
	install -m 0755 "$g/lab-shutdown" "$tmp/usr/local/sbin/lab-shutdown"
	install -m 0755 "$g/lab-ha-director" "$tmp/usr/local/sbin/lab-ha-director"
	install -m 0755 "$g/lab-ha-net" "$tmp/usr/local/sbin/lab-ha-net"
	install -m 0755 "$g/lab-keepalived" "$tmp/usr/local/sbin/lab-keepalived"
	install -m 0755 "$g/lab-traffic" "$tmp/usr/local/bin/lab-traffic"
	install -m 0755 "$g/lab-commands" "$tmp/usr/local/bin/lab-commands"
	install -m 0755 "$g/lab-fault" "$tmp/usr/local/bin/lab-fault"
	install -d -m 0755 "$tmp/usr/local/lib/lab"
	install -m 0755 "$g/cgi-sleep" "$tmp/usr/local/lib/lab/cgi-sleep"
	install -m 0755 "$g/traffic.pl" "$tmp/usr/local/lib/lab/traffic.pl"
	install -m 0644 "$g/ipvsadm-rules.txt" "$tmp/usr/local/lib/lab/ipvsadm-rules.txt"
	install -m 0644 "$g/bash-env" "$tmp/usr/local/lib/lab/bash-env"
	install -m 0644 "$g/inittab" "$tmp/etc/inittab"
	install -m 0644 "$g/sshd_config" "$tmp/etc/ssh/sshd_config"
	rm -f "$tmp"/etc/ssh/ssh_host_*
	install -m 0600 "$KEY_DIR/ssh_host_ed25519_key" "$tmp/etc/ssh/ssh_host_ed25519_key"
	install -m 0644 "$KEY_DIR/ssh_host_ed25519_key.pub" "$tmp/etc/ssh/ssh_host_ed25519_key.pub"
	install -d -m 0755 "$tmp/etc/ssh/authorized_keys"
	install -m 0644 "$KEY_DIR/id_ed25519.pub" "$tmp/etc/ssh/authorized_keys/root"
	install -m 0644 "$KEY_DIR/id_ed25519.pub" "$tmp/etc/ssh/authorized_keys/lvs"
	install -m 0755 "$g/build-rootfs.sh" "$tmp/tmp/build-rootfs.sh"
	if ! chroot "$tmp" /bin/sh /tmp/build-rootfs.sh > "$CACHE_DIR/build-rootfs.log" 2>&1; then
		cat "$CACHE_DIR/build-rootfs.log" >&2
		remove_tree "$tmp"; BUILD_TMP=
		die "customising the rootfs failed (lab/guest/build-rootfs.sh)"
	fi
	rm -f "$tmp/tmp/build-rootfs.sh"
	umount_under "$tmp"
	date -u +%FT%TZ > "$tmp/.lab-rootfs-ok"
	mv -T "$tmp" "$final"
	BUILD_TMP=
	log "rootfs ready in $((SECONDS - t0)) s ($(du -sm "$final" | cut -f1) MB): $final"
	# older versions nobody boots from any more
	for d in "$CACHE_DIR"/rootfs-* "$CACHE_DIR"/base-*; do
		case $d in "$final"|"$BASE"|*.tmp.*) continue ;; esac
		if [ -d "$d" ] && ! rootfs_in_use "$d"; then rm -rf --one-file-system "$d" || true; fi
	done
	exec 8>&-
}

# Every download is checked: InRelease against Debian's archive keyring, Packages.xz
# against InRelease, each .deb against Packages.
apt_index_field() { # PACKAGES_FILE PACKAGE FIELD
	awk -v p="$2" -v f="$3" '
		/^Package: / { cur = $2 }
		cur == p && index($0, f ": ") == 1 { print substr($0, length(f) + 3); exit }
	' "$1"
}

ensure_uml() {
	local dir idx=$CACHE_DIR/uml-index tmp ver deb sum file want got
	mkdir -p "$CACHE_DIR"
	for dir in "$CACHE_DIR"/uml-[0-9]*; do
		if [ -f "$dir/.lab-uml-ok" ]; then UML_DIR=$dir; break; fi
	done
	if [ -z "${UML_DIR:-}" ]; then
		log "fetching the UML kernel from Debian $UML_SUITE (bookworm's cannot run on AMX hosts)"
		rm -rf "$idx"; mkdir -p "$idx"
		curl -fsS --retry 3 -o "$idx/InRelease" "$MIRROR/dists/$UML_SUITE/InRelease" \
			|| die "could not download $MIRROR/dists/$UML_SUITE/InRelease"
		gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg --output "$idx/Release" \
			"$idx/InRelease" 2> "$idx/gpgv.log" || die "bad signature on $UML_SUITE InRelease ($idx/gpgv.log)"
		curl -fsS --retry 3 -o "$idx/Packages.xz" "$MIRROR/dists/$UML_SUITE/main/binary-amd64/Packages.xz" \
			|| die "could not download the $UML_SUITE package index"
		want=$(awk '/^SHA256:/ { s = 1; next } /^[A-Za-z]/ { s = 0 } s && $3 == "main/binary-amd64/Packages.xz" { print $1 }' "$idx/Release")
		got=$(sha256sum "$idx/Packages.xz" | cut -d' ' -f1)
		[ -n "$want" ] && [ "$want" = "$got" ] || die "the $UML_SUITE package index does not match its Release file"
		xz -dc "$idx/Packages.xz" > "$idx/Packages"
		ver=$(apt_index_field "$idx/Packages" user-mode-linux Version)
		[ -n "$ver" ] || die "no user-mode-linux in $UML_SUITE"
		tmp=$CACHE_DIR/uml-$ver.tmp.$$
		BUILD_TMP=$tmp
		mkdir -p "$tmp/root"
		for deb in "${UML_DEBS[@]}"; do
			file=$(apt_index_field "$idx/Packages" "$deb" Filename)
			sum=$(apt_index_field "$idx/Packages" "$deb" SHA256)
			[ -n "$file" ] && [ -n "$sum" ] || die "no $deb in $UML_SUITE"
			curl -fsS --retry 3 -o "$tmp/$deb.deb" "$MIRROR/$file" || die "could not download $MIRROR/$file"
			[ "$(sha256sum "$tmp/$deb.deb" | cut -d' ' -f1)" = "$sum" ] || die "$file does not match its checksum"
			dpkg-deb -x "$tmp/$deb.deb" "$tmp/root"
			rm -f "$tmp/$deb.deb"
		done
		local final=$CACHE_DIR/uml-$ver
		install -m 0755 "$tmp/root/usr/bin/linux.uml" "$tmp/linux.uml"
		mkdir -p "$tmp/lib"
		cp -a "$tmp/root/usr/lib/x86_64-linux-gnu/." "$tmp/lib/"
		mv "$tmp/root/usr/lib/uml/modules" "$tmp/modules"
		rm -rf "$tmp/root"
		# paths inside the final directory (renamed into place below)
		patchelf --set-interpreter "$final/lib/ld-linux-x86-64.so.2" --set-rpath "$final/lib" "$tmp/linux.uml"
		echo "$ver" > "$tmp/version"
		date -u +%FT%TZ > "$tmp/.lab-uml-ok"
		mv -T "$tmp" "$final"
		BUILD_TMP=
		UML_DIR=$final
		log "UML kernel $ver ready: $final"
	fi
	UML=$UML_DIR/linux.uml
	UML_MODULES=$UML_DIR/modules
	[ -x "$UML" ] || die "$UML missing"
}


fingerprint() { ssh-keygen -lf "$KEY_DIR/ssh_host_ed25519_key.pub" | awk '{print $2}'; }

# SSH_OPTS and SSH_HOST for the guest whose run dir is RUN_DIR: its loopback port, or
# (the HA lab's network guest, which has none) its unix socket through socat.
ssh_opts() {
	local port
	port=$(cat "$RUN_DIR/port" 2>/dev/null || echo "$PORT")
	SSH_OPTS=(-i "$KEY_DIR/id_ed25519"
		-o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$RUN_DIR/known_hosts"
		-o GlobalKnownHostsFile=/dev/null -o UpdateHostKeys=no -o LogLevel=ERROR
		-o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3)
	if [ "$port" = unix ]; then
		SSH_OPTS+=(-o "ProxyCommand=socat - UNIX-CONNECT:$(cat "$RUN_DIR/sock")" -o "HostKeyAlias=$(basename "$RUN_DIR")")
		SSH_HOST=$(basename "$RUN_DIR")
	else
		SSH_OPTS+=(-p "$port")
		SSH_HOST=127.0.0.1
	fi
}

# ---- up ----

BUILD_TMP=
UP_OK=0
MEMBERS=()   # the guests' names (one, or the HA lab's three)
up_cleanup() {
	local rc=$? m
	[ $UP_OK = 1 ] && return 0
	if [ -n "$BUILD_TMP" ] && [ -d "$BUILD_TMP" ]; then
		umount_under "$BUILD_TMP"; rm -rf --one-file-system "$BUILD_TMP"
	fi
	for m in "${MEMBERS[@]}"; do
		RUN_DIR=$RUN_ROOT/$m
		[ -d "$RUN_DIR" ] || continue
		kill_recorded
		[ -f "$RUN_DIR/boot.log" ] && cp "$RUN_DIR/boot.log" "$RUN_ROOT/$m.failed-boot.log" 2>/dev/null
	done
	ns_exists && ip netns del "$NS" 2>/dev/null || true
	[ -f "$RUN_ROOT/$NAME/warmup.log" ] && cp "$RUN_ROOT/$NAME/warmup.log" "$RUN_ROOT/$NAME.failed-warmup.log"
	for m in "${MEMBERS[@]}" "$NAME"; do rm -rf "${RUN_ROOT:?}/$m"; done
	[ $rc = 0 ] && rc=1
	log "up failed; everything it started was stopped"
	exit $rc
}

boot_fail() { # MESSAGE (about the guest of RUN_DIR)
	local g
	g=$(basename "$RUN_DIR")
	log "$g: $1"
	if [ -f "$RUN_DIR/boot.log" ]; then
		echo "---- last lines of the boot log ($RUN_ROOT/$g.failed-boot.log) ----" >&2
		tail -n 25 "$RUN_DIR/boot.log" >&2
		echo "----" >&2
	fi
	exit 1
}

# Starts one guest in the lab's namespace NS (which must exist) and returns at once.
#   GUEST PORT|unix INDEX ROLE MEM [ha]
# INDEX picks its management link: tapINDEX 192.168.250.(4i+1)/30, the guest .(4i+2).
# "ha" adds two links, pubINDEX and intINDEX, on the namespace's br-pub and br-int.
start_guest() {
	local g=$1 gport=$2 idx=$3 role=$4 mem=$5 ha=${6:-} sock umid links side pid
	local nsaddr=192.168.250.$((idx * 4 + 1))/30 gaddr=192.168.250.$((idx * 4 + 2))
	RUN_DIR=$RUN_ROOT/$g
	mkdir -p "$RUN_DIR"
	chmod 700 "$RUN_DIR"
	echo "$ROOTFS" > "$RUN_DIR/rootfs"
	echo "$gport" > "$RUN_DIR/port"
	if [ "$gport" = unix ]; then
		printf '%s %s\n' "$g" "$(cut -d' ' -f1,2 "$KEY_DIR/ssh_host_ed25519_key.pub")" > "$RUN_DIR/known_hosts"
	else
		printf '[127.0.0.1]:%s %s\n' "$gport" "$(cut -d' ' -f1,2 "$KEY_DIR/ssh_host_ed25519_key.pub")" > "$RUN_DIR/known_hosts"
	fi

	ip -n "$NS" tuntap add dev "tap$idx" mode tap
	ip -n "$NS" addr add "$nsaddr" dev "tap$idx"
	ip -n "$NS" link set "tap$idx" up
	links="vec0:transport=tap,ifname=tap$idx"
	if [ "$ha" = ha ]; then
		for side in pub int; do
			ip -n "$NS" tuntap add dev "$side$idx" mode tap
			ip -n "$NS" link set "$side$idx" master "br-$side" up
		done
		links="$links vec1:transport=tap,ifname=pub$idx vec2:transport=tap,ifname=int$idx"
	fi

	sock=$RUN_DIR/sshd.sock
	if [ ${#sock} -gt 100 ]; then
		mkdir -p /run/lvslab && sock=/run/lvslab/$g.sock
	fi
	echo "$sock" > "$RUN_DIR/sock"
	rm -f "$sock"
	umid=lvslab-$g
	date +%s > "$RUN_DIR/started_at"
	# setsid: each process leads its own group, so 'down' finds every helper it forks.
	# shellcheck disable=SC2086
	ip netns exec "$NS" setsid "$UML" umid="$umid" uml_dir="$RUN_DIR" mem="$mem" \
		root=/dev/root rootfstype=hostfs rootflags="$ROOTFS" ro \
		$links con=null con0=null,fd:1 ssl=null init=/sbin/init \
		lab.name="$g" lab.modules="$UML_MODULES" lab.role="$role" lab.addr="$gaddr/30" \
		< /dev/null > "$RUN_DIR/boot.log" 2>&1 8>&- 9>&- &
	record_pid "$RUN_DIR/uml.pid" $!
	log "booting '$g' (UML pid $!, mem $mem)"

	ip netns exec "$NS" setsid socat UNIX-LISTEN:"$sock",fork,unlink-early,mode=600,backlog=64 \
		TCP4:"$gaddr":22,nodelay < /dev/null > "$RUN_DIR/socat-ns.log" 2>&1 8>&- 9>&- &
	record_pid "$RUN_DIR/socat-ns.pid" $!
	[ "$gport" = unix ] && return 0
	setsid socat TCP4-LISTEN:"$gport",bind=127.0.0.1,reuseaddr,fork,backlog=64,nodelay UNIX-CONNECT:"$sock" \
		< /dev/null > "$RUN_DIR/socat-host.log" 2>&1 8>&- 9>&- &
	pid=$!
	record_pid "$RUN_DIR/socat-host.pid" "$pid"
	for _ in $(seq 30); do
		port_in_use "$gport" && break
		pidfile_alive "$RUN_DIR/socat-host.pid" >/dev/null || die "could not listen on 127.0.0.1:$gport: $(cat "$RUN_DIR/socat-host.log")"
		sleep 0.1
	done
}

# Waits until the guest GUEST is ready (/run/lab-ready), at most until DEADLINE ($SECONDS).
# Sets T_BOOT (to sshd) and T_READY, in seconds since T0.
wait_guest() {
	local g=$1 deadline=$2 remaining rc
	RUN_DIR=$RUN_ROOT/$g
	ssh_opts
	T_BOOT=
	while :; do
		pidfile_alive "$RUN_DIR/uml.pid" >/dev/null || boot_fail "the guest exited during boot"
		grep -q 'LAB-FAILED' "$RUN_DIR/boot.log" && boot_fail "the lab setup failed inside the guest: $(grep -m1 -a 'LAB-FAILED' "$RUN_DIR/boot.log")"
		grep -q 'Kernel panic' "$RUN_DIR/boot.log" && boot_fail "the guest kernel panicked"
		[ $SECONDS -ge "$deadline" ] && boot_fail "timeout: the lab was not ready after ${TIMEOUT}s"
		if grep -q 'lab-init: sshd started' "$RUN_DIR/boot.log"; then
			[ -n "$T_BOOT" ] || T_BOOT=$((SECONDS - T0))
			remaining=$((deadline - SECONDS))
			# one connection that waits inside the guest for the ready marker
			rc=0
			timeout $((remaining + 5)) ssh "${SSH_OPTS[@]}" "root@$SSH_HOST" \
				"i=0; while [ ! -e /run/lab-ready ]; do [ -e /run/lab-failed ] && exit 3; i=\$((i+1)); [ \$i -gt $((remaining * 5)) ] && exit 4; sleep 0.2; done; exit 0" \
				> /dev/null 2> "$RUN_DIR/ssh-wait.log" || rc=$?
			case $rc in
			0) break ;;
			3) sleep 0.5; boot_fail "the lab setup failed inside the guest: $(grep -m1 -a 'LAB-FAILED' "$RUN_DIR/boot.log" || true)" ;;
			4) boot_fail "timeout: the lab was not ready after ${TIMEOUT}s" ;;
			esac
		fi
		sleep 0.5
	done
	T_READY=$((SECONDS - T0))
}

# The least-privilege login "lvsconsole" with the sudoers lines of docs/sudo.md
# (lab/least-privilege/), made in the running guest: the shared rootfs stays as it is.
add_least_privilege_user() {
	ssh_opts
	{
		printf 'set -- "$(cat <<'"'"'LVS_SUDOERS'"'"'\n'
		cat "$LAB_DIR/least-privilege/sudoers"
		printf 'LVS_SUDOERS\n)"\n'
		cat "$LAB_DIR/least-privilege/add-user.sh"
	} | ssh "${SSH_OPTS[@]}" "root@$SSH_HOST" sh -s > "$RUN_DIR/least-privilege.log" 2>&1 \
		|| boot_fail "adding the least-privilege user failed: $(tail -3 "$RUN_DIR/least-privilege.log")"
}

# director.json and director.yaml of the guest GUEST on PORT
write_director_files() {
	local g=$1 gport=$2 fp key_abs=$KEY_DIR/id_ed25519 kh_abs=$RUN_ROOT/$1/known_hosts
	fp=$(fingerprint)
	cat > "$RUN_ROOT/$g/director.json" <<JSON
{
  "id": "$g",
  "host": "127.0.0.1",
  "port": $gport,
  "user": "root",
  "privateKeyPath": "$key_abs",
  "hostKeyFingerprint": "$fp",
  "knownHostsPath": "$kh_abs"
}
JSON
	cat > "$RUN_ROOT/$g/director.yaml" <<YAML
# LVS lab director '$g' (written by lab/lab.sh up)
directors:
  - id: "$g"
    host: "127.0.0.1"
    port: $gport
    user: "root"
    privateKeyPath: "$key_abs"
    hostKeyFingerprint: "$fp"
YAML
}

# a previous run of the lab that died without 'down': its processes may hold the ports
clean_stale() {
	local m
	for m in "$@"; do
		RUN_DIR=$RUN_ROOT/$m
		[ -d "$RUN_DIR" ] || continue
		log "cleaning up a stale run of '$m'"
		kill_recorded
	done
	if ns_exists; then
		RUN_DIR=$RUN_ROOT/$NAME
		kill_recorded
		ip netns del "$NS"
	fi
	for m in "$@"; do rm -rf "${RUN_ROOT:?}/$m"; done
}

build_all() {
	T_BUILD=$SECONDS
	ensure_host_pkgs
	ensure_uml
	ensure_keys
	ensure_rootfs
	T_BUILD=$((SECONDS - T_BUILD))
}

# the lab's namespace: lo and the taps, nothing else, no routes beyond the /30s
make_ns() {
	claim_ns
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

cmd_up() {
	need_root
	local pid deadline fp
	if pid=$(pidfile_alive "$RUN_DIR/uml.pid"); then
		die "lab '$NAME' is already running (pid $pid, port $(cat "$RUN_DIR/port" 2>/dev/null)); 'down --name $NAME' first"
	fi
	[ -f "$RUN_DIR/pair" ] && die "'$NAME' is a guest of the HA lab '$(cat "$RUN_DIR/pair")'; 'down --name $(cat "$RUN_DIR/pair")' first"
	mkdir -p "$RUN_ROOT"
	exec 9> "$RUN_ROOT/.$NAME.lock"
	flock -n 9 || die "another 'up' or 'down' of lab '$NAME' is in progress"
	refuse_foreign
	MEMBERS=("$NAME")
	if [ -d "$RUN_DIR" ] || ns_exists; then clean_stale "$NAME"; fi
	port_in_use "$PORT" && die "port $PORT is already in use on this host (pick another with --port)"

	trap up_cleanup EXIT
	build_all
	make_ns
	T0=$SECONDS
	start_guest "$NAME" "$PORT" 0 single "$MEM"
	log "waiting up to ${TIMEOUT}s for the lab to be ready"
	deadline=$((SECONDS + TIMEOUT))
	wait_guest "$NAME" "$deadline"
	add_least_privilege_user
	write_director_files "$NAME" "$PORT"
	echo "$T_READY" > "$RUN_DIR/ready_seconds"
	rm -f "$RUN_ROOT/$NAME.failed-boot.log"
	UP_OK=1
	trap - EXIT
	fp=$(fingerprint)
	cat <<MSG
lab '$NAME' is ready
  ssh:          127.0.0.1:$PORT (user root; also 'lvs' with passwordless sudo, 'lvsconsole' with docs/sudo.md's)
  key:          $KEY_DIR/id_ed25519
  fingerprint:  $fp
  known_hosts:  $RUN_DIR/known_hosts
  director:     $RUN_DIR/director.json (.yaml)
  uml pid:      $(cut -d' ' -f1 "$RUN_DIR/uml.pid")
  build:        ${T_BUILD}s   boot to sshd: ${T_BOOT:-?}s   boot to ready: ${T_READY}s
  try:          bash lab/lab.sh ssh --name $NAME -- ipvsadm -Ln
MSG
}

# ---- down / status / ssh ----

# powers the guests off over ssh (all at once), then sweeps what is left
stop_guests() {
	local m pid
	for m in "$@"; do
		RUN_DIR=$RUN_ROOT/$m
		if pidfile_alive "$RUN_DIR/uml.pid" >/dev/null; then
			ssh_opts
			# a clean shutdown first; the ssh connection dies with the guest
			timeout 5 ssh "${SSH_OPTS[@]}" -o ConnectTimeout=3 "root@$SSH_HOST" \
				'busybox poweroff' > /dev/null 2>&1 &
		fi
	done
	wait || true
	for m in "$@"; do
		RUN_DIR=$RUN_ROOT/$m
		for _ in $(seq 50); do
			pidfile_alive "$RUN_DIR/uml.pid" >/dev/null || break
			sleep 0.2
		done
	done
	for m in "$@"; do
		RUN_DIR=$RUN_ROOT/$m
		[ -d "$RUN_DIR" ] && kill_recorded
	done
	RUN_DIR=$RUN_ROOT/$NAME
	kill_recorded
	if ns_exists; then ip netns del "$NS"; fi
	rm -f "$(ns_owner_file)"
	for m in "$@"; do
		pid=$(cat "$RUN_ROOT/$m/sock" 2>/dev/null || true)
		case $pid in /run/lvslab/*) rm -f "$pid" ;; esac
		rm -rf "${RUN_ROOT:?}/$m"
	done
}

cmd_down() {
	need_root
	if [ ! -d "$RUN_DIR" ] && ! ns_exists; then
		echo "lab '$NAME' is not running"
		return 0
	fi
	[ -f "$RUN_DIR/pair" ] && die "'$NAME' is a guest of the HA lab '$(cat "$RUN_DIR/pair")': 'down --name $(cat "$RUN_DIR/pair")'"
	mkdir -p "$RUN_ROOT"
	exec 9> "$RUN_ROOT/.$NAME.lock"
	flock -w 30 9 || die "another 'up' or 'down' of lab '$NAME' is in progress"
	refuse_foreign
	if [ -f "$RUN_DIR/ha" ]; then
		ha_members
		stop_guests "${MEMBERS[@]}" "$NAME"
	else
		stop_guests "$NAME"
	fi
	echo "lab '$NAME' is down"
}

cmd_status() {
	local pid started port
	[ -f "$RUN_DIR/ha" ] && { ha_status; return $?; }
	if pid=$(pidfile_alive "$RUN_DIR/uml.pid"); then
		started=$(cat "$RUN_DIR/started_at" 2>/dev/null || date +%s)
		port=$(cat "$RUN_DIR/port" 2>/dev/null || echo '?')
		if [ -f "$RUN_DIR/director.json" ] || [ -f "$RUN_DIR/ready_seconds" ]; then
			echo "lab '$NAME' is running: port $port, pid $pid, uptime $(( $(date +%s) - started ))s"
			return 0
		fi
		echo "lab '$NAME' is starting: port $port, pid $pid, uptime $(( $(date +%s) - started ))s"
		return 3
	fi
	if [ -d "$RUN_DIR" ]; then
		echo "lab '$NAME' is not running (stale run dir $RUN_DIR: 'down --name $NAME' cleans it)"
	else
		echo "lab '$NAME' is not running"
	fi
	return 3
}

cmd_ssh() {
	[ -f "$RUN_DIR/ready_seconds" ] && pidfile_alive "$RUN_DIR/uml.pid" > /dev/null \
		|| die "lab '$NAME' is not running ('up --name $NAME' first)" 3
	ssh_opts
	exec ssh "${SSH_OPTS[@]}" "$USER_NAME@$SSH_HOST" "${CMD[@]}"
}

# lab-fault in a guest, from this checkout's lab/guest/lab-fault (so a guest booted from an
# older rootfs runs the current one). In an HA lab, the realserver and client faults go to
# NAME-net and the director faults to NAME-a or NAME-b (--director); status shows both.
cmd_fault() {
	[ ${#CMD[@]} -gt 0 ] || usage
	[[ $DIRECTOR =~ ^[ab]$ ]] || die "bad --director '$DIRECTOR' (a or b)" 2
	local guests=("$NAME")
	if [ -f "$RUN_DIR/ha" ]; then
		case ${CMD[0]} in
		gateway|client-in-rs-subnet|rs-down) guests=("$NAME-net") ;;
		status) guests=("$NAME-$DIRECTOR" "$NAME-net") ;;
		*) guests=("$NAME-$DIRECTOR") ;;
		esac
	fi
	local script args g rc=0
	script=$(cat "$LAB_DIR/guest/lab-fault")
	args=$(printf '%q ' "${CMD[@]}")
	for g in "${guests[@]}"; do
		RUN_DIR=$RUN_ROOT/$g
		[ -f "$RUN_DIR/ready_seconds" ] && pidfile_alive "$RUN_DIR/uml.pid" > /dev/null \
			|| die "lab '$g' is not running ('up --name $NAME' first)" 3
		ssh_opts
		[ ${#guests[@]} -gt 1 ] && echo "$g:"
		ssh "${SSH_OPTS[@]}" "root@$SSH_HOST" "sh -c $(printf %q "$script") lab-fault $args" || rc=$?
	done
	return $rc
}

# shellcheck source=lab/ha.sh
. "$LAB_DIR/ha.sh"

SUBCMD=${1:-}
[ $# -gt 0 ] && shift
case $SUBCMD in
up|down|status|ssh|fault) parse_args "$@" ;;
-h|--help|help|'') usage ;;
*) die "unknown command '$SUBCMD' (up, down, status, ssh, fault)" 2 ;;
esac
case $SUBCMD in
up) if [ "$HA" = 1 ]; then cmd_up_ha; else cmd_up; fi ;;
down) cmd_down ;;
status) cmd_status ;;
ssh) cmd_ssh ;;
fault) cmd_fault ;;
esac
