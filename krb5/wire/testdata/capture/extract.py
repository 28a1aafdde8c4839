# Throwaway: pick the captured messages, decrypt their encrypted parts with
# impacket's RFC 3962 code and the realm's known keys, write *.der files.
import os, struct, sys
from impacket.krb5.crypto import _enctype_table
from impacket.krb5.keytab import Keytab

CAP = '/tmp/krbcap/cap'
OUT = '/tmp/krbcap/out'

def tlv(b, i=0):
    t = b[i]; i += 1
    assert t & 0x1f != 0x1f
    l = b[i]; i += 1
    if l & 0x80:
        k = l & 0x7f
        l = int.from_bytes(b[i:i+k], 'big'); i += k
    return t, b[i:i+l], i + l

def elems(b):
    out, i = [], 0
    while i < len(b):
        s = i
        t, c, i = tlv(b, i)
        out.append((t, c, b[s:i]))
    return out

def fields(msg):
    """contents of [APP n] SEQUENCE or SEQUENCE -> {ctxnum: inner element bytes}"""
    t, c, _ = tlv(msg)
    if t & 0xe0 == 0x60:
        t, c, _ = tlv(c)
    assert t == 0x30, hex(t)
    return {e[0] & 0x1f: e[1] for e in elems(c)}

def integer(b):
    t, c, _ = tlv(b); assert t == 2
    return int.from_bytes(c, 'big', signed=True)

def octets(b):
    t, c, _ = tlv(b); assert t == 4
    return c

def encdata(b):
    f = fields(b)
    return integer(f[0]), octets(f[2])

def key(b):
    f = fields(b)
    return integer(f[0]), octets(f[1])

def dec(etype, keyvalue, usage, cipher):
    e = _enctype_table[etype]
    from impacket.krb5.crypto import Key
    return e.decrypt(Key(etype, keyvalue), usage, cipher)

def cf2(etype, k1, k2, p1, p2):
    from impacket.krb5.crypto import Key
    e = _enctype_table[etype]
    def prfplus(k, pepper):
        out, i = b'', 1
        while len(out) < e.seedsize:
            out += e.prf(Key(etype, k), bytes([i]) + pepper)
            i += 1
        return out[:e.seedsize]
    a, b_ = prfplus(k1, p1), prfplus(k2, p2)
    return e.random_to_key(bytes(x ^ y for x, y in zip(a, b_))).contents

def pw_key(etype, pw, salt):
    return _enctype_table[etype].string_to_key(pw, salt, None).contents

kt = Keytab.loadFile('/tmp/krbcap/realm/all.keytab')
def kt_key(princ, etype):
    return kt.getKey(princ, specificEncType=etype)['keyvalue']['data']

def cap(n):
    names = [x for x in os.listdir(CAP) if x.startswith('%03d-' % n)]
    return open(os.path.join(CAP, names[0]), 'rb').read()

def save(name, b):
    open(os.path.join(OUT, name), 'wb').write(b)
    print('%-40s %5d bytes  %s' % (name, len(b), b[:4].hex()))

def padata(req, typ):
    f = fields(req)
    for t, c, full in elems(tlv(f[3])[1]):
        pf = fields(full)
        if integer(pf[1]) == typ:
            return octets(pf[2])

# MIT kinit alice (preauth required) then kvno
as_req, err, as_req2, as_rep, tgs_req, tgs_rep = [cap(i) for i in range(1, 7)]
save('mit-as-req.der', as_req)
save('mit-krb-error-preauth-required.der', err)
save('mit-as-req-preauth.der', as_req2)
save('mit-as-rep.der', as_rep)
save('mit-tgs-req.der', tgs_req)
save('mit-tgs-rep.der', tgs_rep)
save('mit-as-req-nopreauth.der', cap(7))
save('mit-as-rep-nopreauth.der', cap(8))

alice = pw_key(18, 'alicepw', 'HOP.TESTalice')
ts = padata(as_req2, 2)
et, c = encdata(ts)
save('mit-pa-enc-ts-enc.der', dec(et, alice, 1, c))

f = fields(as_rep)
et, c = encdata(f[6])
enc_as = dec(et, alice, 3, c)
save('mit-enc-as-rep-part.der', enc_as)
tgt_skey = key(fields(enc_as)[0])
tkt = fields(f[5])
et, c = encdata(tkt[3])
save('mit-enc-ticket-part-tgt.der', dec(et, kt_key('krbtgt/HOP.TEST', et), 2, c))

apreq = padata(tgs_req, 1)
save('mit-ap-req-tgs.der', apreq)
af = fields(apreq)
et, c = encdata(af[4])
auth = dec(et, tgt_skey[1], 7, c)
save('mit-authenticator-tgs.der', auth)
subkey = key(fields(auth)[6]) if 6 in fields(auth) else None

f = fields(tgs_rep)
et, c = encdata(f[6])
# MIT 1.20 armors TGS requests with FAST (RFC 6113 §5.4.1.1): the armor key
# is KRB-FX-CF2(subkey, TGT session key), the reply key is strengthened.
armor = cf2(18, subkey[1], tgt_skey[1], b'subkeyarmor', b'ticketarmor')
fx = None
for t, cc, full in elems(tlv(f[2])[1]):
    pf = fields(full)
    if integer(pf[1]) == 136:
        fx = octets(pf[2])
t, armored, _ = tlv(fx)           # [0] KrbFastArmoredRep
fr = fields(tlv(armored)[1] if False else armored)
et2, c2 = encdata(fr[0])
fast_rep = dec(et2, armor, 52, c2)
save('mit-krb-fast-response.der', fast_rep)
strengthen = key(fields(fast_rep)[1])
reply_key = cf2(18, strengthen[1], subkey[1], b'strengthenkey', b'replykey')
enc_tgs = dec(et, reply_key, 9, c)
save('mit-enc-tgs-rep-part.der', enc_tgs)
tkt = fields(f[5])
et, c = encdata(tkt[3])
save('mit-enc-ticket-part-service.der', dec(et, kt_key('host/server.hop.test', et), 2, c))

# kpasswd (bob): AS exchange for kadmin/changepw, then AP-REQ/AP-REP
bob = pw_key(18, 'bobpw', 'HOP.TESTbob')
cp_rep = cap(22)
et, c = encdata(fields(cp_rep)[6])
cp_skey = key(fields(dec(et, bob, 3, c))[0])
req = cap(23)
n, ver, aplen = struct.unpack('>HHH', req[:6])
apreq = req[6:6+aplen]
save('mit-ap-req.der', apreq)
et, c = encdata(fields(apreq)[4])
auth = dec(et, cp_skey[1], 11, c)
save('mit-authenticator-ap.der', auth)
rep = cap(24)
n, ver, aplen = struct.unpack('>HHH', rep[:6])
aprep = rep[6:6+aplen]
save('mit-ap-rep.der', aprep)
et, c = encdata(fields(aprep)[2])
save('mit-enc-ap-rep-part.der', dec(et, cp_skey[1], 12, c))

# impacket
save('impacket-as-req.der', cap(9))
ir = cap(11)
save('impacket-as-req-preauth.der', ir)
et, c = encdata(padata(ir, 2))
save('impacket-pa-enc-ts-enc.der', dec(et, alice, 1, c))
save('impacket-pa-pac-request.der', padata(cap(9), 128))
save('impacket-tgs-req.der', cap(15))
save('mit-krb-error-inapp-cksum.der', cap(16))
ap = padata(cap(15), 1)
et, c = encdata(fields(ap)[4])
save('impacket-authenticator-tgs.der', dec(et, tgt_skey[1], 7, c))
s4u = cap(19)
save('impacket-tgs-req-s4u2self.der', s4u)
save('impacket-pa-for-user.der', padata(s4u, 129))

# impacket ticketConverter.py: MIT ccache -> KRB-CRED (.kirbi), enc-part in clear (etype 0)
kc = open('/tmp/krbcap/realm/alice.kirbi', 'rb').read()
save('impacket-krb-cred.der', kc)
et, c = encdata(fields(kc)[3])
assert et == 0
save('impacket-enc-krb-cred-part.der', c)

# The PA-TGS-REQ authenticator checksum covers the req-body exactly as sent
# (RFC 4120 §7.2.2, key usage 6): verify it over the bytes the TLV walker
# found, so the Go tests can compare RawBody with an independently checked
# slice.
from impacket.krb5.crypto import _checksum_table, Key
def body_of(req):
    return tlv(fields(req)[4])  # (tag, contents, end)
for name, req, auth_file in (('mit-tgs-req', tgs_req, 'mit-authenticator-tgs.der'),
                             ('impacket-tgs-req', cap(15), 'impacket-authenticator-tgs.der')):
    f = fields(req)
    inner = f[4]
    t, c, end = tlv(inner)
    body = inner[:end]
    a = fields(open(os.path.join(OUT, auth_file), 'rb').read())
    if 3 not in a:
        print(name, 'authenticator has no checksum')
        continue
    ck = fields(a[3])
    ctype, csum = integer(ck[0]), octets(ck[1])
    prof = _checksum_table[ctype]
    try:
        if ctype == 7:  # rsa-md5, unkeyed (impacket)
            import hashlib
            assert hashlib.md5(body).digest() == csum
        else:
            prof.verify(Key(18, tgt_skey[1]), 6, body, csum)
        print(name, 'authenticator checksum type', ctype, 'verifies over req-body')
        save(name + '-body.der', body)
    except Exception as ex:
        print(name, 'checksum type', ctype, 'does not verify:', ex)
