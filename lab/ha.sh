# lab/ha.sh: the HA lab (sourced by lab/lab.sh): `up --ha --name N --port P` boots
#   N-a  director, keepalived MASTER (priority 150), ssh on 127.0.0.1:P
#   N-b  director, keepalived BACKUP (priority 100), ssh on 127.0.0.1:P+1
#   N-net the clients and the realservers (no port: ssh through its unix socket)
# all in one host namespace lvslab-N holding two bridges, br-pub (client side) and br-int
# (realserver side), that every guest has a tap on. See lab/README.md, "HA lab".

ha_members() { MEMBERS=("$NAME-a" "$NAME-b" "$NAME-net"); }

# runs a shell command line on guest G of this lab
ha_ssh() { # GUEST CMD
	RUN_DIR=$RUN_ROOT/$1
	ssh_opts
	ssh "${SSH_OPTS[@]}" "root@$SSH_HOST" "$2"
}

# Waits (inside N-a, one connection) until it is MASTER with every VIP and the DIP, N-b
# holds none of them, and a request through each VIP is answered from N-net.
ha_wait_pair() { # DEADLINE
	local remaining=$(($1 - SECONDS)) rc=0
	# ... and its checkers have every realserver up (13 members, weight > 0): a checker that
	# ran before the realservers answered has taken its member out for a few seconds
	ha_ssh "$NAME-a" "i=0; until ip -4 -o addr show br-pub | grep -q ' 203.0.113.12/32' && ip -4 -o addr show br-int | grep -q ' 10.10.0.1/24' && [ \$(ipvsadm -Ln | grep -c '^  -> 10\.10\.0\.1[1-3]:[0-9]* *Masq *[1-9]') -ge 13 ]; do i=\$((i+1)); [ \$i -gt $((remaining * 5)) ] && exit 4; sleep 0.2; done" \
		> /dev/null 2>&1 || rc=$?
	[ $rc = 0 ] || { RUN_DIR=$RUN_ROOT/$NAME-a; boot_fail "never became MASTER with every realserver up (see /var/log/keepalived.log)"; }
	remaining=$(($1 - SECONDS))
	[ $remaining -gt 0 ] || remaining=1
	rc=0
	ha_ssh "$NAME-b" "i=0; while ip -4 -o addr show | grep -q ' 203.0.113.10/32\| 10.10.0.1/24'; do i=\$((i+1)); [ \$i -gt $((remaining * 5)) ] && exit 4; sleep 0.2; done" \
		> /dev/null 2>&1 || rc=$?
	[ $rc = 0 ] || { RUN_DIR=$RUN_ROOT/$NAME-b; boot_fail "still holds VIPs or the DIP while $NAME-a is MASTER"; }
	remaining=$(($1 - SECONDS))
	[ $remaining -gt 0 ] || remaining=1
	rc=0
	# the warm-up: every client on :80 (a persistence template each), then each service once
	ha_ssh "$NAME-net" "i=0; until lab-traffic probe --vip 203.0.113.10:8080 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -gt $((remaining * 2)) ] && exit 4; sleep 0.5; done
		W=/run/lab/warmup.txt
		lab-traffic probe --vip 203.0.113.10:80 --all-clients > \$W 2>&1 &&
		lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.101 --count 5 >> \$W 2>&1 &&
		lab-traffic probe --vip 203.0.113.11:9090 --from 203.0.113.102 --count 4 >> \$W 2>&1 &&
		lab-traffic probe --vip 203.0.113.12:80 --from 203.0.113.103 --count 4 >> \$W 2>&1 &&
		lab-traffic probe --vip 203.0.113.11:443 --from 203.0.113.104 --count 2 >> \$W 2>&1 || { cat \$W; exit 5; }
		# not fatal (as in the single lab): a first datagram is sometimes lost while ARP settles
		lab-traffic probe --udp --vip 203.0.113.10:53 --from 203.0.113.105 --count 2 >> \$W 2>&1 ||
			echo 'warning: udp 203.0.113.10:53 did not answer every probe'" \
		> "$RUN_ROOT/$NAME/warmup.log" 2>&1 || rc=$?
	case $rc in
	0) grep -h '^warning' "$RUN_ROOT/$NAME/warmup.log" | sed 's/^/lab: /' >&2 || true ;;
	4) RUN_DIR=$RUN_ROOT/$NAME-net; boot_fail "no answer through the VIP 203.0.113.10:8080" ;;
	*) RUN_DIR=$RUN_ROOT/$NAME-net; boot_fail "warm-up traffic failed: $(tail -n 3 "$RUN_ROOT/$NAME/warmup.log")" ;;
	esac
}

write_cluster_yaml() {
	local fp key_abs=$KEY_DIR/id_ed25519 m
	fp=$(fingerprint)
	{
		echo "# HA lab '$NAME' (written by lab/lab.sh up --ha): a clusters: item for lvs-console.yaml"
		echo "clusters:"
		echo "  - id: \"$NAME\""
		echo "    name: \"HA lab $NAME (keepalived pair)\""
		echo "    directors:"
		for m in "$NAME-a" "$NAME-b"; do
			cat <<YAML
      - id: "$m"
        host: "127.0.0.1"
        port: $(cat "$RUN_ROOT/$m/port")
        user: "root"
        privateKeyPath: "$key_abs"
        hostKeyFingerprint: "$fp"
YAML
		done
	} > "$RUN_ROOT/$NAME/cluster.yaml"
}

cmd_up_ha() {
	need_root
	local m pid deadline port_b=$((PORT + 1)) t_a t_b t_net
	[ "$port_b" -le 65535 ] || die "--port must leave room for PORT+1"
	ha_members
	for m in "$NAME" "${MEMBERS[@]}"; do
		if pid=$(pidfile_alive "$RUN_ROOT/$m/uml.pid"); then
			die "lab '$m' is already running (pid $pid); 'down --name $NAME' first"
		fi
	done
	mkdir -p "$RUN_ROOT"
	exec 9> "$RUN_ROOT/.$NAME.lock"
	flock -n 9 || die "another 'up' or 'down' of lab '$NAME' is in progress"
	refuse_foreign
	if [ -d "$RUN_DIR" ] || ns_exists; then clean_stale "$NAME" "${MEMBERS[@]}"; fi
	for m in "${MEMBERS[@]}"; do
		[ -d "$RUN_ROOT/$m" ] && clean_stale "$NAME" "${MEMBERS[@]}"
	done
	port_in_use "$PORT" && die "port $PORT is already in use on this host (pick another with --port)"
	port_in_use "$port_b" && die "port $port_b (PORT+1, for $NAME-b) is already in use on this host"

	trap up_cleanup EXIT
	build_all
	mkdir -p "$RUN_DIR"
	chmod 700 "$RUN_DIR"
	printf '%s\n' "${MEMBERS[@]}" > "$RUN_DIR/ha"
	echo "$PORT" > "$RUN_DIR/port"
	date +%s > "$RUN_DIR/started_at"
	make_ns
	ip -n "$NS" link add br-pub type bridge forward_delay 0 stp_state 0
	ip -n "$NS" link add br-int type bridge forward_delay 0 stp_state 0
	ip -n "$NS" link set br-pub up
	ip -n "$NS" link set br-int up
	T0=$SECONDS
	start_guest "$NAME-a" "$PORT" 0 ha-director "$MEM" ha
	start_guest "$NAME-b" "$port_b" 1 ha-director "$MEM" ha
	start_guest "$NAME-net" unix 2 ha-net 256M ha
	for m in "${MEMBERS[@]}"; do echo "$NAME" > "$RUN_ROOT/$m/pair"; done
	log "waiting up to ${TIMEOUT}s for the HA lab to be ready"
	deadline=$((SECONDS + TIMEOUT))
	wait_guest "$NAME-net" "$deadline"; t_net=$T_READY
	wait_guest "$NAME-a" "$deadline"; t_a=$T_READY
	wait_guest "$NAME-b" "$deadline"; t_b=$T_READY
	ha_wait_pair "$deadline"
	T_READY=$((SECONDS - T0))
	write_director_files "$NAME-a" "$PORT"
	write_director_files "$NAME-b" "$port_b"
	for m in "${MEMBERS[@]}"; do echo "$T_READY" > "$RUN_ROOT/$m/ready_seconds"; done
	write_cluster_yaml
	RUN_DIR=$RUN_ROOT/$NAME
	echo "$T_READY" > "$RUN_DIR/ready_seconds"
	for m in "${MEMBERS[@]}"; do rm -f "$RUN_ROOT/$m.failed-boot.log"; done
	UP_OK=1
	trap - EXIT
	cat <<MSG
HA lab '$NAME' is ready
  $NAME-a:      127.0.0.1:$PORT  (keepalived MASTER: VIPs 203.0.113.10-12, DIP 10.10.0.1)
  $NAME-b:      127.0.0.1:$port_b  (keepalived BACKUP)
  $NAME-net:    clients 203.0.113.100-109, realservers 10.10.0.11-13 (ssh --name $NAME-net)
  cluster:      $RUN_DIR/cluster.yaml
  build:        ${T_BUILD}s   guests ready: net ${t_net}s, a ${t_a}s, b ${t_b}s   pair ready: ${T_READY}s
  try:          bash lab/lab.sh ssh --name $NAME-a -- lab-keepalived status
                bash lab/lab.sh ssh --name $NAME-net -- lab-traffic probe --vip 203.0.113.10:80 --all-clients
MSG
}

ha_status() {
	local m pid rc=0 started
	ha_members
	started=$(cat "$RUN_DIR/started_at" 2>/dev/null || date +%s)
	for m in "${MEMBERS[@]}"; do
		if ! pid=$(pidfile_alive "$RUN_ROOT/$m/uml.pid"); then
			echo "  $m: not running"
			rc=3
		else
			echo "  $m: pid $pid, port $(cat "$RUN_ROOT/$m/port")"
		fi
	done > "$RUN_DIR/.status" 2>&1
	if [ $rc = 0 ] && [ -f "$RUN_DIR/ready_seconds" ]; then
		echo "HA lab '$NAME' is running: uptime $(( $(date +%s) - started ))s"
	elif [ $rc = 0 ]; then
		echo "HA lab '$NAME' is starting: uptime $(( $(date +%s) - started ))s"
		rc=3
	else
		echo "HA lab '$NAME' is not running ('down --name $NAME' cleans up what is left)"
	fi
	cat "$RUN_DIR/.status"
	rm -f "$RUN_DIR/.status"
	return $rc
}
