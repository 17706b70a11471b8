#!/bin/sh
# Builds the classic LVS-NAT picture inside the director (the guest's root namespace):
#   client ns (203.0.113.100-109, 2001:db8:100::100) --veth pub0-- br-pub [VIPs] director
#   director br-int 10.10.0.1/24, 2001:db8:200::1 --veth-- rs1 rs2 rs3 (one ns each)
# then restores the IPVS rules captured in the fixtures, adds the fwmark rule,
# sends warm-up traffic and writes /run/lab-ready. Runs once per boot (inittab).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
LIB=/usr/local/lib/lab
t0=$(cut -d' ' -f1 /proc/uptime)
fail() { echo "LAB-FAILED: $*"; echo "$*" > /run/lab-failed; exit 1; }
step() { echo "lab-setup: $* (uptime $(cut -d' ' -f1 /proc/uptime))"; }

[ -e /run/lab-failed ] && fail "lab-init failed: $(cat /run/lab-failed)"

# The HA lab's guests (lab.sh up --ha) build their own part of the picture.
case $(cat /run/lab/role 2>/dev/null) in
ha-director) exec /usr/local/sbin/lab-ha-director ;;
ha-net) exec /usr/local/sbin/lab-ha-net ;;
esac

step "modules"
modprobe -a veth bridge ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh \
	ip_vs_sed ip_vs_nq ip_vs_dh ip_vs_lblc ip_vs_lblcr ip_vs_fo ip_vs_ovf \
	nf_tables || fail "modprobe"

# Director sysctls, like a real NAT director. Defaults first so new interfaces inherit.
w() { echo "$2" > "/proc/sys/$1" || fail "sysctl $1"; }
w net/ipv4/ip_forward 1
w net/ipv4/conf/all/send_redirects 0
w net/ipv4/conf/default/send_redirects 0
w net/ipv6/conf/all/forwarding 1
w net/ipv6/conf/default/accept_dad 0
w net/ipv6/conf/all/accept_dad 0

step "topology"
ip -batch - <<'IPB' || fail "ip batch (director)"
netns add client
netns add rs1
netns add rs2
netns add rs3
link add br-int type bridge forward_delay 0 stp_state 0
link add br-pub type bridge forward_delay 0 stp_state 0
link add pub0 type veth peer name eth0 netns client
link set pub0 master br-pub
link add vrs1 type veth peer name eth0 netns rs1
link add vrs2 type veth peer name eth0 netns rs2
link add vrs3 type veth peer name eth0 netns rs3
link set vrs1 master br-int
link set vrs2 master br-int
link set vrs3 master br-int
addr add 203.0.113.1/24 dev br-pub
addr add 203.0.113.10/32 dev br-pub
addr add 203.0.113.11/32 dev br-pub
addr add 203.0.113.12/32 dev br-pub
addr add 2001:db8:100::1/64 dev br-pub nodad
addr add 2001:db8:100::10/128 dev br-pub nodad
addr add 10.10.0.1/24 dev br-int
addr add 2001:db8:200::1/64 dev br-int nodad
link set pub0 up
link set br-pub up
link set vrs1 up
link set vrs2 up
link set vrs3 up
link set br-int up
IPB

ip -n client -batch - <<'IPB' || fail "ip batch (client)"
link set lo up
addr add 203.0.113.100/24 dev eth0
addr add 203.0.113.101/24 dev eth0
addr add 203.0.113.102/24 dev eth0
addr add 203.0.113.103/24 dev eth0
addr add 203.0.113.104/24 dev eth0
addr add 203.0.113.105/24 dev eth0
addr add 203.0.113.106/24 dev eth0
addr add 203.0.113.107/24 dev eth0
addr add 203.0.113.108/24 dev eth0
addr add 203.0.113.109/24 dev eth0
addr add 2001:db8:100::100/64 dev eth0 nodad
link set eth0 up
route add default via 203.0.113.1
route add default via 2001:db8:100::1
IPB

for n in 1 2 3; do
	v6=
	[ $n != 3 ] && v6="addr add 2001:db8:200::1$n/64 dev eth0 nodad
route add default via 2001:db8:200::1"
	ip -n rs$n -batch - <<IPB || fail "ip batch (rs$n)"
link set lo up
addr add 10.10.0.1$n/24 dev eth0
link set eth0 up
route add default via 10.10.0.1
$v6
IPB
done

for i in all default pub0 br-pub br-int eth0 vrs1 vrs2 vrs3; do
	w net/ipv4/conf/$i/send_redirects 0
done

step "realservers"
for n in 1 2 3; do
	d=/run/www/rs$n
	mkdir -p $d/cgi-bin
	echo rs$n > $d/index.html
	cp $LIB/cgi-sleep $d/cgi-bin/sleep
	chmod 755 $d/cgi-bin/sleep
	extra=
	[ $n = 3 ] && extra="busybox httpd -p 443 -h $d"
	ip netns exec rs$n sh -c "
		busybox httpd -p 80 -h $d
		$extra
		setsid socat UDP4-RECVFROM:53,fork SYSTEM:'echo rs$n' </dev/null >/dev/null 2>&1 &
		setsid socat UDP4-RECVFROM:123,fork SYSTEM:'echo rs$n' </dev/null >/dev/null 2>&1 &
	" || fail "realserver rs$n"
done

step "ipvs"
ipvsadm -R < $LIB/ipvsadm-rules.txt || fail "ipvsadm -R"
# The firewall mark: this UML kernel has neither legacy iptables nor nf_tables for IPv4,
# but it has nf_tables for bridges, and the public side is a bridge: a mark set in its
# prerouting hook is still on the packet when IPVS looks at it in LOCAL_IN.
nft -f - <<'NFT' || fail "nft fwmark rule"
table bridge lab {
	chain prerouting {
		type filter hook prerouting priority -300; policy accept;
		ip daddr 203.0.113.12 tcp dport 80 meta mark set 1
	}
}
NFT

step "warm-up"
W=/run/lab/warmup.txt
# every client gets a persistence template on :80 (so a drain has pinned clients)
lab-traffic probe --vip 203.0.113.10:80 --all-clients > $W 2>&1 || fail "warm-up :80: $(tail -3 $W)"
lab-traffic probe --vip 203.0.113.10:8080 --from 203.0.113.101 --count 5 >> $W 2>&1 || fail "warm-up :8080"
lab-traffic probe --vip 203.0.113.12:80 --from 203.0.113.102 --count 4 >> $W 2>&1 || fail "warm-up fwmark"
lab-traffic probe --vip '[2001:db8:100::10]:80' --count 2 >> $W 2>&1 || fail "warm-up ipv6"
lab-traffic probe --udp --vip 203.0.113.10:53 --from 203.0.113.103 --count 4 >> $W 2>&1 || {
	# not fatal: the lab is usable; say what happened on the console (boot.log)
	echo "lab-setup: warning: udp 203.0.113.10:53 did not answer every probe:"; tail -4 $W
	for n in 1 2; do echo "rs$n:"; ip netns exec rs$n ss -Hunlp; done; ipvsadm -Lnc | grep -c UDP; }
lab-traffic probe --udp --vip 203.0.113.10:123 --from 203.0.113.104 >> $W 2>&1 || echo "lab-setup: warning: no answer on udp 203.0.113.10:123"
# 203.0.113.11:443 has members that do not exist (.14, .15): fire and forget.
ip netns exec client sh -c '
	for a in 100 101 102; do
		setsid socat -T 2 /dev/null TCP4:203.0.113.11:443,bind=203.0.113.$a,connect-timeout=3 </dev/null >/dev/null 2>&1 &
	done'

t1=$(cut -d' ' -f1 /proc/uptime)
echo "$t1" > /run/lab-ready
step "ready"
echo "LAB-READY setup took $t0..$t1 s of uptime"
