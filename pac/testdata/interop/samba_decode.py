#!/usr/bin/python3
"""Decode a PAC with Samba's NDR code (python3-samba) and print its fields as
JSON. hop's interop tests (pac/interop_test.go) run it on PACs hop encodes.
Usage: samba_decode.py FILE"""
import json
import sys

from samba.dcerpc import krb5pac
from samba.ndr import ndr_unpack


def s(x):
    """An lsa_String's text; Samba gives None for a null pointer."""
    return x.string if x.string is not None else ""


def groups(arr):
    return [[g.rid, g.attributes] for g in (arr.rids or [])[:arr.count]]


def main():
    data = open(sys.argv[1], "rb").read()
    pac = ndr_unpack(krb5pac.PAC_DATA, data)
    out = {"version": pac.version, "types": [], "buffers": {}}
    for buf in pac.buffers:
        t = buf.type
        out["types"].append(t)
        info = buf.info
        if t == krb5pac.PAC_TYPE_LOGON_INFO:
            li = info.info
            b = li.info3.base
            d = {
                "times": [b.logon_time, b.logoff_time, b.kickoff_time,
                          b.last_password_change, b.allow_password_change,
                          b.force_password_change],
                "names": [s(b.account_name), s(b.full_name), s(b.logon_script),
                          s(b.profile_path), s(b.home_directory), s(b.home_drive)],
                "logon_count": b.logon_count,
                "bad_password_count": b.bad_password_count,
                "rid": b.rid,
                "primary_gid": b.primary_gid,
                "groups": groups(b.groups),
                "user_flags": b.user_flags,
                "logon_server": s(b.logon_server),
                "logon_domain": s(b.logon_domain),
                "domain_sid": str(b.domain_sid),
                "acct_flags": b.acct_flags,
                "sids": [[str(x.sid), x.attributes] for x in (li.info3.sids or [])[:li.info3.sidcount]],
                "resource_domain_sid": str(li.resource_groups.domain_sid) if li.resource_groups.domain_sid is not None else None,
                "resource_groups": groups(li.resource_groups.groups),
            }
        elif t == krb5pac.PAC_TYPE_LOGON_NAME:
            d = {"logon_time": info.logon_time, "account_name": info.account_name}
        elif t == krb5pac.PAC_TYPE_UPN_DNS_INFO:
            d = {"upn": info.upn_name or "", "dns": info.dns_domain_name or "", "flags": info.flags}
            if info.flags & krb5pac.PAC_UPN_DNS_FLAG_HAS_SAM_NAME_AND_SID:
                ex = info.ex
                d["sam"] = ex.samaccountname or ""
                d["sid"] = str(ex.objectsid) if ex.objectsid is not None else None
        elif t == krb5pac.PAC_TYPE_ATTRIBUTES_INFO:
            d = {"flags_length": info.flags_length, "flags": info.flags}
        elif t == krb5pac.PAC_TYPE_REQUESTER_SID:
            d = {"sid": str(info.sid)}
        elif t == krb5pac.PAC_TYPE_CONSTRAINED_DELEGATION:
            cd = info.info
            d = {"target": s(cd.proxy_target),
                 "transited": [s(x) for x in (cd.transited_services or [])[:cd.num_transited_services]]}
        elif t in (krb5pac.PAC_TYPE_SRV_CHECKSUM, krb5pac.PAC_TYPE_KDC_CHECKSUM,
                   krb5pac.PAC_TYPE_TICKET_CHECKSUM, krb5pac.PAC_TYPE_FULL_CHECKSUM):
            d = {"type": info.type, "signature": bytes(info.signature).hex()}
        elif hasattr(info, "remaining"):
            d = {"raw": bytes(info.remaining).hex()}
        else:
            d = {}
        out["buffers"][str(t)] = d
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


main()
