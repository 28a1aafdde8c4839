#!/usr/bin/python3
"""Decode a PAC with impacket (python3-impacket) and print its fields as JSON;
with keys, also check its signatures with impacket's own crypto.
hop's interop tests (pac/interop_test.go) run it on PACs hop encodes.
Usage: impacket_decode.py FILE [SERVER_ETYPE SERVER_KEY_HEX KDC_ETYPE KDC_KEY_HEX]"""
import json
import struct
import sys

from impacket.dcerpc.v5.dtypes import NULL
from impacket.dcerpc.v5.ndr import NDRPOINTER
from impacket.dcerpc.v5.rpcrt import TypeSerialization1
from impacket.krb5 import constants
from impacket.krb5.crypto import Key, _checksum_table
from impacket.krb5.pac import (PACTYPE, PAC_INFO_BUFFER, VALIDATION_INFO, PAC_CLIENT_INFO,
                               PAC_SIGNATURE_DATA, UPN_DNS_INFO, S4U_DELEGATION_INFO)


class PS4U_DELEGATION_INFO(NDRPOINTER):
    referent = (('Data', S4U_DELEGATION_INFO),)


class DELEGATION_INFO(TypeSerialization1):
    structure = (('Data', PS4U_DELEGATION_INFO),)


def ustr(x):
    """impacket gives an RPC_UNICODE_STRING's text directly (NULL when absent)."""
    if isinstance(x, str):
        return x
    if isinstance(x, bytes):
        return x.decode('utf-16-le')
    return ""


def ft(x):
    return x['dwHighDateTime'] << 32 | x['dwLowDateTime']


def sid(x):
    return x.formatCanonical()


def main():
    data = open(sys.argv[1], 'rb').read()
    pt = PACTYPE(data)
    n = pt['cBuffers']
    out = {"types": [], "buffers": {}}
    bufs = {}
    for i in range(n):
        ib = PAC_INFO_BUFFER(data[8 + 16 * i:24 + 16 * i])
        t, off, size = ib['ulType'], ib['Offset'], ib['cbBufferSize']
        bufs[t] = (off, size)
        out["types"].append(t)
        b = data[off:off + size]
        if t == 1:
            vi = VALIDATION_INFO()
            vi.fromString(b)
            vi.fromStringReferents(b[len(vi.getData()):])
            v = vi['Data']
            d = {
                "times": [ft(v[k]) for k in ('LogonTime', 'LogoffTime', 'KickOffTime', 'PasswordLastSet',
                                             'PasswordCanChange', 'PasswordMustChange')],
                "names": [ustr(v[k]) for k in ('EffectiveName', 'FullName', 'LogonScript', 'ProfilePath',
                                               'HomeDirectory', 'HomeDirectoryDrive')],
                "logon_count": v['LogonCount'], "bad_password_count": v['BadPasswordCount'],
                "rid": v['UserId'], "primary_gid": v['PrimaryGroupId'],
                "groups": [[g['RelativeId'], g['Attributes']] for g in v['GroupIds']] if v['GroupCount'] else [],
                "user_flags": v['UserFlags'],
                "logon_server": ustr(v['LogonServer']), "logon_domain": ustr(v['LogonDomainName']),
                "domain_sid": sid(v['LogonDomainId']),
                "acct_flags": v['UserAccountControl'],
                "sids": [[sid(s['Sid']), s['Attributes']] for s in v['ExtraSids']] if v['SidCount'] else [],
                "resource_domain_sid": sid(v['ResourceGroupDomainSid']) if v['ResourceGroupDomainSid'] != NULL else None,
                "resource_groups": [[g['RelativeId'], g['Attributes']] for g in v['ResourceGroupIds']] if v['ResourceGroupCount'] else [],
            }
        elif t == 10:
            ci = PAC_CLIENT_INFO(b)
            d = {"logon_time": ci['ClientId'], "account_name": ci['Name'].decode('utf-16-le')}
        elif t == 11:
            di = DELEGATION_INFO()
            di.fromString(b)
            di.fromStringReferents(b[len(di.getData()):])
            x = di['Data']
            d = {"target": ustr(x['S4U2proxyTarget']),
                 "transited": [ustr(s) for s in x['S4UTransitedServices']] if x['TransitedListSize'] else []}
        elif t == 12:
            u = UPN_DNS_INFO(b)
            d = {"upn": b[u['UpnOffset']:u['UpnOffset'] + u['UpnLength']].decode('utf-16-le'),
                 "dns": b[u['DnsDomainNameOffset']:u['DnsDomainNameOffset'] + u['DnsDomainNameLength']].decode('utf-16-le'),
                 "flags": u['Flags']}
            if u['Flags'] & 2:
                sl, so, il, io = struct.unpack('<HHHH', b[12:20])
                d["sam"] = b[so:so + sl].decode('utf-16-le')
                d["sid"] = None
                if il:
                    from impacket.dcerpc.v5.dtypes import RPC_SID
                    raw = b[io:io + il]
                    r = RPC_SID()
                    r.fromString(struct.pack('<L', raw[1]) + raw)
                    d["sid"] = r.formatCanonical()
        elif t in (6, 7, 16, 19):
            s = PAC_SIGNATURE_DATA(b)
            d = {"type": s['SignatureType'], "signature": s['Signature'].hex()}
        else:
            d = {"raw": b.hex()}
        out["buffers"][str(t)] = d
    if len(sys.argv) == 6:
        skey = Key(int(sys.argv[2]), bytes.fromhex(sys.argv[3]))
        kkey = Key(int(sys.argv[4]), bytes.fromhex(sys.argv[5]))

        def value(t):
            off, size = bufs[t]
            return data[off + 4:off + size]

        def zeroed(*types):
            z = bytearray(data)
            for t in types:
                off, size = bufs[t]
                z[off + 4:off + size] = b'\0' * (size - 4)
            return bytes(z)

        def cksum(key, t, msg):
            ctype = PAC_SIGNATURE_DATA(data[bufs[t][0]:bufs[t][0] + bufs[t][1]])['SignatureType']
            c = _checksum_table[ctype]
            return c.checksum(key, constants.KERB_NON_KERB_CKSUM_SALT, msg)[:len(value(t))]

        out["server_ok"] = cksum(skey, 6, zeroed(6, 7)) == value(6)
        out["kdc_ok"] = cksum(kkey, 7, value(6)) == value(7)
        if 19 in bufs:
            out["full_ok"] = cksum(kkey, 19, zeroed(6, 7, 19)) == value(19)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


main()
