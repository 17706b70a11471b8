#!/usr/bin/perl
# The request engine behind lab-traffic: one process for many requests, because every
# process start costs 40-70 ms in the guest. Runs inside the client namespace.
#
#   traffic.pl probe  PROTO HOST PORT PATH COUNT SRC...   one line per request: "SRC NAME" / "SRC -"
#   traffic.pl steady PROTO HOST PORT PATH RATE SECONDS SRC...   (SECONDS 0 = forever)
#   traffic.pl hold   HOST PORT SECONDS COUNT SRC...      N connections to /cgi-bin/sleep?SECONDS
#   traffic.pl fill   HOST PORT COUNT FIRST SRC...        COUNT one-datagram UDP flows (raw socket)
#   traffic.pl watch  PROTO HOST PORT PATH INTERVAL_MS SECONDS SRC...
#       requests one after the other, one line each: "UPTIME SRC NAME" / "UPTIME SRC -"
#       (UPTIME from /proc/uptime, 10 ms resolution: how long a failover left clients unanswered)
# PROTO is tcp (an HTTP/1.0 GET, answered with the realserver's name) or udp (one datagram).
use strict;
use warnings;
use Socket qw(:addrinfo AF_INET AF_INET6 SOCK_STREAM SOCK_DGRAM IPPROTO_TCP IPPROTO_UDP
	inet_pton pack_sockaddr_in pack_sockaddr_in6);
use POSIX qw(EINPROGRESS);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);

$| = 1;
my $mode = shift @ARGV // '';

sub family { return $_[0] =~ /:/ ? AF_INET6 : AF_INET }
sub sockaddr {
	my ($addr, $port) = @_;
	if ($addr =~ /:/) { return pack_sockaddr_in6($port, inet_pton(AF_INET6, $addr)); }
	return pack_sockaddr_in($port, inet_pton(AF_INET, $addr));
}

sub wait_fd {    # FH, 'r'|'w', timeout seconds -> true when ready
	my ($fh, $dir, $t) = @_;
	my $v = '';
	vec($v, fileno($fh), 1) = 1;
	my $n = $dir eq 'r' ? select(my $r = $v, undef, undef, $t) : select(undef, my $w = $v, undef, $t);
	return $n > 0;
}

# open a socket bound to SRC and connected to HOST:PORT (non-blocking connect, 3 s)
sub open_conn {
	my ($proto, $src, $host, $port) = @_;
	my $fam = family($host);
	my ($type, $p) = $proto eq 'udp' ? (SOCK_DGRAM, IPPROTO_UDP) : (SOCK_STREAM, IPPROTO_TCP);
	socket(my $s, $fam, $type, $p) or return;
	bind($s, sockaddr($src, 0)) or return;
	return $s if $proto eq 'udp';
	my $fl = fcntl($s, F_GETFL, 0);
	fcntl($s, F_SETFL, $fl | O_NONBLOCK);
	if (!connect($s, sockaddr($host, $port))) {
		return unless $! == EINPROGRESS;
		return unless wait_fd($s, 'w', 3);
		my $err = getsockopt($s, Socket::SOL_SOCKET(), Socket::SO_ERROR());
		return if !defined $err || unpack('i', $err) != 0;
	}
	fcntl($s, F_SETFL, $fl);
	return $s;
}

# one request; returns the realserver's name or undef
sub request {
	my ($proto, $src, $host, $port, $path) = @_;
	my $s = open_conn($proto, $src, $host, $port) or return;
	my $buf = '';
	if ($proto eq 'udp') {
		# unconnected: a reply is accepted from any source (a one-packet-scheduling (-o)
		# service's reply is not de-NATed and comes from the realserver's own address)
		send($s, "probe\n", 0, sockaddr($host, $port)) or return;
		return unless wait_fd($s, 'r', 3);
		recv($s, $buf, 512, 0);
	} else {
		my $h = $host =~ /:/ ? "[$host]" : $host;
		syswrite($s, "GET $path HTTP/1.0\r\nHost: $h\r\nConnection: close\r\n\r\n") or return;
		while (wait_fd($s, 'r', 5)) {
			my $n = sysread($s, my $chunk, 4096);
			last if !$n;
			$buf .= $chunk;
		}
		$buf =~ s/^.*?\r?\n\r?\n//s or return;    # body only
	}
	close($s);
	$buf =~ s/\s+$//;
	$buf =~ s/^.*\n//s;    # last line of the body
	return length $buf ? $buf : undef;
}

if ($mode eq 'probe') {
	my ($proto, $host, $port, $path, $count, @src) = @ARGV;
	my $rc = 0;
	for my $src (@src) {
		for (1 .. $count) {
			my $name = request($proto, $src, $host, $port, $path);
			$rc = 1 unless defined $name;
			print "$src ", ($name // '-'), "\n";
		}
	}
	exit $rc;
} elsif ($mode eq 'steady') {
	# paced by sleeping 1/RATE after each request (perl-base has no Time::HiRes): the real
	# rate is a little below RATE
	my ($proto, $host, $port, $path, $rate, $seconds, @src) = @ARGV;
	my $interval = 1 / ($rate || 1);
	my $start = time;
	my $i = 0;
	while ($seconds == 0 || time - $start < $seconds) {
		request($proto, $src[$i++ % @src], $host, $port, $path);
		select(undef, undef, undef, $interval);
	}
	exit 0;
} elsif ($mode eq 'watch') {
	my ($proto, $host, $port, $path, $interval_ms, $seconds, @src) = @ARGV;
	my $uptime = sub { open(my $u, '<', '/proc/uptime') or return 0; my $l = <$u>; return (split ' ', $l)[0]; };
	my $end = $uptime->() + $seconds;
	my $i = 0;
	while ($uptime->() < $end) {
		my $src = $src[$i++ % @src];
		my $t = $uptime->();
		my $name = request($proto, $src, $host, $port, $path);
		print "$t $src ", ($name // '-'), "\n";
		select(undef, undef, undef, $interval_ms / 1000);
	}
	exit 0;
} elsif ($mode eq 'hold') {
	my ($host, $port, $seconds, $count, @src) = @ARGV;
	my $h = $host =~ /:/ ? "[$host]" : $host;
	my @open;
	for my $i (0 .. $count - 1) {
		my $src = $src[$i % @src];
		my $s = open_conn('tcp', $src, $host, $port);
		if (!$s) { print STDERR "hold: $src: connect failed\n"; next; }
		# no half-close: the connection stays ESTABLISHED (IPVS ActiveConn) until the RS ends it
		syswrite($s, "GET /cgi-bin/sleep?$seconds HTTP/1.0\r\nHost: $h\r\n\r\n");
		push @open, $s;
	}
	# the caller gets "OPENED PID" once the connections are up; a detached child holds them
	my $pid = fork() // die "fork: $!";
	if ($pid) { print scalar(@open), " $pid\n"; exit 0; }
	POSIX::setsid();
	open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
	my $deadline = time + $seconds + 30;
	while (@open && time < $deadline) {
		my $v = '';
		vec($v, fileno($_), 1) = 1 for @open;
		select(my $r = $v, undef, undef, 1) or next;
		@open = grep {
			my $keep = 1;
			if (vec($r, fileno($_), 1)) { my $n = sysread($_, my $c, 4096); if (!$n) { close($_); $keep = 0; } }
			$keep;
		} @open;
	}
	exit 0;
} elsif ($mode eq 'fill') {
	# COUNT one-datagram UDP flows, each from its own (client address, source port): one IPVS
	# connection entry apiece, kept for the UDP timeout (300 s) whether or not a realserver
	# answers. Raw IPv4 (IPPROTO_RAW implies IP_HDRINCL): one send per entry, no socket or
	# bind per source port, so 100k entries take seconds, not minutes.
	my ($host, $port, $count, $first, @src) = @ARGV;
	socket(my $raw, AF_INET, Socket::SOCK_RAW(), 255) or die "raw socket: $!";
	my $dst = inet_pton(AF_INET, $host) // die "fill is IPv4 only: $host";
	my @from = map { inet_pton(AF_INET, $_) // die "bad source $_" } @src;
	my $to = pack_sockaddr_in(0, $dst);
	my $sent = 0;
	for my $i ($first .. $first + $count - 1) {
		my $sport = 1024 + int($i / @from);
		die "fill: out of source ports at entry $i\n" if $sport > 65535;
		# UDP checksum 0 = none (allowed for IPv4); the kernel fills the IP checksum and id
		my $udp = pack('nnnn', $sport, $port, 9, 0) . 'x';
		my $ip = pack('CCnnnCCn', 0x45, 0, 20 + length $udp, 0, 0, 64, 17, 0) . $from[$i % @from] . $dst;
		$sent++ if send($raw, $ip . $udp, 0, $to);
	}
	print "$sent\n";
	exit($sent == $count ? 0 : 1);
}
print STDERR "usage: traffic.pl probe|steady|hold|fill ...\n";
exit 2;
