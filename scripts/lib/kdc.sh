# shellcheck shell=bash
# Shared by scripts/mit-kdc and scripts/heimdal-kdc: address checks and the
# client krb5.conf of a throwaway realm. Source it; it defines functions only.
# The sourcing script sets prog (its name, for messages) first, and reads the
# HOST, PORT and KDCADDR that check_listen sets.
# shellcheck disable=SC2034,SC2154

# The AES encryption types of RFC 3962 and RFC 8009, in MIT's default order
# of preference (internal/thirdparty.Enctypes lists the same).
KDC_ENCTYPES="aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128"

die() {
	echo "$prog: $*" >&2
	exit 1
}

# check_listen ADDR:PORT: accepts loopback addresses only (127.x.y.z:PORT or
# [::1]:PORT) and sets HOST (without brackets), PORT and KDCADDR (HOST as a
# krb5.conf writes it, with brackets for IPv6).
check_listen() {
	local listen=$1 o
	if [[ $listen =~ ^\[([0-9a-fA-F:]+)\]:([0-9]+)$ ]]; then
		HOST=${BASH_REMATCH[1]}
		PORT=${BASH_REMATCH[2]}
		[[ $HOST == ::1 ]] || die "--listen $listen: only loopback addresses are allowed ([::1] or 127.x.y.z)"
		KDCADDR="[$HOST]"
	elif [[ $listen =~ ^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}):([0-9]+)$ ]]; then
		HOST=${BASH_REMATCH[1]}
		PORT=${BASH_REMATCH[2]}
		IFS=. read -r -a octets <<<"$HOST"
		for o in "${octets[@]}"; do
			((10#$o <= 255)) || die "--listen $listen: bad IPv4 address"
		done
		KDCADDR=$HOST
	else
		die "--listen $listen: want 127.x.y.z:PORT or [::1]:PORT (only loopback addresses are allowed)"
	fi
	((10#$PORT >= 1 && 10#$PORT <= 65535)) || die "--listen $listen: port out of range"
	PORT=$((10#$PORT))
}

# bound HOST PORT: prints how many TCP listeners and UDP sockets are bound to
# exactly HOST:PORT, as "TCP UDP". MIT's krb5kdc binds with SO_REUSEPORT, so
# a second KDC on a busy address would start and silently share its traffic:
# start refuses a busy address with this, and checks after start-up that the
# new KDC is alone.
bound() {
	local host=$1 port=$2 hex a b c d
	if [[ $host == ::1 ]]; then
		hex=00000000000000000000000001000000
	else
		IFS=. read -r a b c d <<<"$host"
		hex=$(printf '%02X%02X%02X%02X' "$((10#$d))" "$((10#$c))" "$((10#$b))" "$((10#$a))")
	fi
	hex+=$(printf ':%04X' "$((10#$port))")
	local tcp udp
	tcp=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v a="$hex" '$2 == a && $4 == "0A"' | wc -l)
	udp=$(cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v a="$hex" '$2 == a' | wc -l)
	echo "$tcp $udp"
}

# client_krb5_conf REALM KDC: a krb5.conf for MIT and Heimdal clients, the
# same settings as internal/thirdparty.Krb5Conf.
client_krb5_conf() {
	local realm=$1 kdc=$2
	cat <<CONF
# Made by scripts/$prog: client configuration for the throwaway realm $realm.
[libdefaults]
	default_realm = $realm
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	allow_weak_crypto = false
	permitted_enctypes = $KDC_ENCTYPES
	default_tkt_enctypes = $KDC_ENCTYPES
	default_tgs_enctypes = $KDC_ENCTYPES
	default_etypes = $KDC_ENCTYPES
	forwardable = true
	noaddresses = true
	kdc_timesync = 1
	ccache_type = 4

[realms]
	$realm = {
		kdc = $kdc
	}

[domain_realm]
CONF
}

# alive PID NAME: true if PID is running (not a zombie) with NAME in its
# command line; the pid in a stale pid file may have been reused.
alive() {
	local pid=$1 name=$2
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$name"
}

# running PID: true while PID exists and is not a zombie (a child that just
# forked still carries its parent's command line: use this, not alive, right
# after starting a process).
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# stop_pid PIDFILE NAME: TERM, then KILL after 5s; removes PIDFILE.
stop_pid() {
	local pidfile=$1 name=$2 pid i
	[[ -f $pidfile ]] || return 0
	pid=$(cat "$pidfile")
	if alive "$pid" "$name"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			alive "$pid" "$name" || break
			sleep 0.05
		done
		if alive "$pid" "$name"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

# check_word WORD: rejects what cannot be passed through the admin tools'
# command parsers safely.
check_word() {
	[[ $1 != *[\"$'\n\r\\']* ]] || die "names and passwords must not contain '\"', backslashes or line breaks"
}
