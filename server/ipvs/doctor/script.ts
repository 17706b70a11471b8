/**
 * What the doctor reads, in ONE remote command: a fixed sh script printing sections between
 * markers, like the snapshot read. Its arguments are data (never part of the script):
 * $1 the probe timeout in seconds, then one "ADDRESS PORT" per NAT realserver to probe
 * ("ADDRESS -" for a route lookup only, e.g. UDP members).
 *
 * Processes it starts (each costs 40-70 ms on a small director): one grep for the sysctls,
 * the IPVS hash size and the process names (keepalived?); one grep for sysctl.d; ip three
 * times (addresses, routes, one batch of `route get`); iptables-save, ip6tables-save and
 * nft (when installed); one awk over /proc/net/ip_vs_conn that only counts (entries per
 * destination and state, with the newest one's Expires, and per client); and for the
 * probes `timeout` + one bash that forks a subshell per realserver, all connecting at once
 * through bash's /dev/tcp, the whole lot killed after $1 seconds.
 *
 * Pure: the script text and its arguments.
 */
import { addressFamily } from "@/server/ipvs/model";

export const DOCTOR_MARK = "@@lvs-console:d0c7@@";

/** Client lines the awk prints at most (a busy director has 100k distinct clients). */
export const CLIENT_LINES_MAX = 5000;

export const DOCTOR_SCRIPT = `m='${DOCTOR_MARK}'
s() { printf '%s %s\\n' "$m" "$1"; }
e() { printf '%s exit %s\\n' "$m" "$1"; }
t=$1; shift
s files; grep -H -m1 '' /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/ipv4/conf/*/send_redirects /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/vs/conntrack /proc/net/ip_vs /proc/[0-9]*/comm 2>/dev/null; e 0
s sysctld; grep -H '^[^#;]' /etc/sysctl.conf /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf 2>/dev/null; e 0
s addr; ip -o addr show 2>&1; e $?
s route; ip -o route show 2>&1; e $?
s routeget; for a; do printf 'route get %s\\n' "\${a% *}"; done | ip -force -o -batch - 2>&1; e $?
s iptables; $asroot iptables-save -t nat 2>&1; e $?
s ip6tables; $asroot ip6tables-save -t nat 2>&1; e $?
s nft; $asroot nft list ruleset 2>&1; e $?
s conns; awk 'NR > 1 { if ($3 == "0000") { t++; next } n++; k = $6 " " $7 " " $8; d[k]++; c[$2 " " k]++; if ($9 + 0 > x[k] + 0) x[k] = $9; if ($9 + 0 > y[$2 " " k] + 0) y[$2 " " k] = $9 }
END { for (k in d) print "dest", k, d[k], x[k] + 0; m = 0
for (k in c) { if (++m > ${CLIENT_LINES_MAX}) { print "truncated"; break }; print "client", k, c[k], y[k] + 0 }
print "total", n + 0, t + 0 }' /proc/net/ip_vs_conn 2>&1; e $?
s probes; if command -v bash >/dev/null; then timeout -k 1 "$t" bash -c 'for x; do a=\${x% *} p=\${x#* }; [ "$p" = - ] && continue; ( if r=$( { exec 3<>"/dev/tcp/$a/$p"; } 2>&1 ); then echo "open $a $p"; else echo "closed $a $p \${r##*: }"; fi ) & done; wait' bash "$@"; e $?; else echo "no bash"; e 127; fi
`;

export interface DoctorTarget {
  address: string;
  port: number;
  /** Probe the port (TCP NAT members); otherwise only look the route up. */
  probe: boolean;
}

/** The script's arguments: the probe timeout, then one target per realserver address/port. */
export function doctorArgs(targets: readonly DoctorTarget[], probeTimeoutSeconds = 1): string[] {
  const seen = new Set<string>();
  const routed = new Set<string>();
  const args = [String(probeTimeoutSeconds)];
  for (const t of [...targets].sort((a, b) => Number(b.probe) - Number(a.probe))) {
    // Every argument is looked up once in `ip route get`: an address needs one, probed or not.
    if (!t.probe && routed.has(t.address)) continue;
    const arg = `${t.address} ${t.probe ? String(t.port) : "-"}`;
    if (seen.has(arg)) continue;
    seen.add(arg);
    routed.add(t.address);
    args.push(arg);
  }
  return args;
}

/** The targets of a director's services: every NAT member, probed when it is TCP. */
export function doctorTargets(
  services: ReadonlyArray<{
    key: { kind: string };
    realservers: ReadonlyArray<{ address: string; port: number; forward: string }>;
  }>,
): DoctorTarget[] {
  const targets: DoctorTarget[] = [];
  for (const s of services) {
    for (const r of s.realservers) {
      if (r.forward !== "masq") continue;
      // A firewall-mark service may carry TCP or UDP: a TCP probe of a UDP port would call a
      // healthy realserver down, so only members of TCP services are probed.
      targets.push({
        address: r.address,
        port: r.port,
        probe: s.key.kind === "tcp" && r.port !== 0,
      });
    }
  }
  // Probed targets first, so a route-only duplicate never hides a probe.
  return targets.sort((a, b) => Number(b.probe) - Number(a.probe) || family(a) - family(b));
}

function family(t: DoctorTarget): number {
  return addressFamily(t.address) === "inet" ? 0 : 1;
}
