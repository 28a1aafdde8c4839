#!/bin/sh
# Recreates testdata/*.der: a throwaway MIT realm on loopback, a recording
# relay in front of it, MIT and impacket clients, then extract.py to pick
# the messages and decrypt their encrypted parts. Needs root (impacket's
# getTGT.py/getST.py only talk to port 88), krb5-kdc krb5-admin-server
# krb5-user python3-impacket and Go. Every process started is killed at
# the end. Nonces, keys, times and checksums differ on every run, so the
# tests' expected values (times, nonces) must be updated with new files.
set -eu
W=/tmp/krbcap; rm -rf $W; mkdir -p $W/realm $W/cap $W/out
HERE=$(cd "$(dirname "$0")" && pwd)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
K=$(port) R=$(port) KP=$(port) RP=$(port) A=$(port)
(cd $HERE/relay && go build -o $W/relaybin main.go)

cat > $W/realm/kdc.conf <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$K
    kdc_tcp_listen = 127.0.0.1:$K
[realms]
    HOP.TEST = {
        database_name = $W/realm/principal
        key_stash_file = $W/realm/stash
        acl_file = $W/realm/kadm5.acl
        kadmind_listen = 127.0.0.1:$A
        kpasswd_listen = 127.0.0.1:$KP
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
        max_life = 1d
        max_renewable_life = 7d
    }
CONF
cat > $W/realm/krb5.conf <<CONF
[libdefaults]
    default_realm = HOP.TEST
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
[realms]
    HOP.TEST = {
        kdc = 127.0.0.1:$R
        kpasswd_server = 127.0.0.1:$RP
        admin_server = 127.0.0.1:1
    }
CONF
echo "*/admin@HOP.TEST *" > $W/realm/kadm5.acl
export KRB5_CONFIG=$W/realm/krb5.conf KRB5_KDC_PROFILE=$W/realm/kdc.conf
kdb5_util create -s -r HOP.TEST -P masterpw
kadmin.local -q "addprinc -pw alicepw +requires_preauth alice"
kadmin.local -q "addprinc -pw bobpw bob"
kadmin.local -q "addprinc -randkey host/server.hop.test"
kadmin.local -q "addprinc -pw svcpw +ok_to_auth_as_delegate svc"
kadmin.local -q "ktadd -norandkey -k $W/realm/all.keytab krbtgt/HOP.TEST host/server.hop.test svc kadmin/changepw alice bob"

krb5kdc -n & KDC=$!
kadmind -nofork & KADMIND=$!
$W/relaybin -out $W/cap -route kdc=127.0.0.1:$R\>127.0.0.1:$K \
    -route impacket=127.0.0.1:88\>127.0.0.1:$K -route kpasswd=127.0.0.1:$RP\>127.0.0.1:$KP & RELAY=$!
trap 'kill $KDC $KADMIND $RELAY' EXIT
sleep 1
cd $W/realm
E=/usr/share/doc/python3-impacket/examples
# 001-006: AS-REQ, KRB-ERROR PREAUTH_REQUIRED, AS-REQ+PA-ENC-TIMESTAMP, AS-REP, TGS-REQ, TGS-REP
echo alicepw | KRB5CCNAME=FILE:$W/realm/alice.cc kinit -f -r 3d alice
KRB5CCNAME=FILE:$W/realm/alice.cc kvno host/server.hop.test
# 007-008: AS-REQ/AS-REP without pre-authentication
echo bobpw | KRB5CCNAME=FILE:$W/realm/bob.cc kinit bob
# 009-012: impacket AS exchanges (getTGT.py fails to decode MIT's EncASRepPart tagged 26)
/usr/bin/python3 $E/getTGT.py -dc-ip 127.0.0.1 HOP.TEST/alice:alicepw || true
# 013-014: impacket AS exchange for svc (same failure)
/usr/bin/python3 $E/getST.py -dc-ip 127.0.0.1 -spn host/server.hop.test -impersonate alice HOP.TEST/svc:svcpw || true
# 015-016: impacket TGS-REQ with MIT's TGT (rejected: no authenticator checksum)
KRB5CCNAME=$W/realm/alice.cc /usr/bin/python3 $E/getST.py -k -no-pass -dc-ip 127.0.0.1 -spn host/server.hop.test HOP.TEST/alice || true
# 017-020: svc's TGT, then impacket's S4U2Self TGS-REQ (PA-FOR-USER)
echo svcpw | KRB5CCNAME=FILE:$W/realm/svc.cc kinit -f svc
KRB5CCNAME=$W/realm/svc.cc /usr/bin/python3 $E/getST.py -k -no-pass -dc-ip 127.0.0.1 -spn host/server.hop.test -impersonate alice HOP.TEST/svc || true
# 021-024: kpasswd: AS exchange for kadmin/changepw, then AP-REQ/AP-REP
printf 'bobpw\nbobpw2\nbobpw2\n' | KRB5CCNAME=FILE:$W/realm/kp.cc kpasswd bob
# KRB-CRED from impacket's ccache converter
/usr/bin/python3 $E/ticketConverter.py alice.cc alice.kirbi
/usr/bin/python3 $HERE/extract.py
echo "files are in $W/out"
