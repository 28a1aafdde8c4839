#!/usr/bin/python3
"""Generates pac_samba.hex: a PAC encoded by Samba's NDR code (python3-samba,
samba.ndr.ndr_pack of a populated krb5pac.PAC_DATA). hop's TestSambaEncodedPAC
decodes it with pac.Parse and compares the values set below.
Run from this directory: /usr/bin/python3 gen.py > pac_samba.hex"""
from samba.dcerpc import krb5pac, lsa, netlogon, samr, security
from samba.ndr import ndr_pack

DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"


def lsa_string(s):
    x = lsa.String()
    x.string = s
    return x


def lsa_string_large(s):
    x = lsa.StringLarge()
    x.string = s
    return x


def rids(pairs):
    a = samr.RidWithAttributeArray()
    a.count = len(pairs)
    out = []
    for rid, attr in pairs:
        r = samr.RidWithAttribute()
        r.rid = rid
        r.attributes = attr
        out.append(r)
    a.rids = out
    return a


base = netlogon.netr_SamBaseInfo()
base.logon_time = 133136929195316850
base.logoff_time = 0x7FFFFFFFFFFFFFFF
base.kickoff_time = 0x7FFFFFFFFFFFFFFF
base.last_password_change = 132893055467651518
base.allow_password_change = 132893919467651518
base.force_password_change = 0x7FFFFFFFFFFFFFFF
base.account_name = lsa_string("alice")
base.full_name = lsa_string("Alice Ünicode")
base.logon_script = lsa_string("logon.cmd")
base.profile_path = lsa_string("\\\\srv\\profiles\\alice")
base.home_directory = lsa_string("\\\\srv\\home\\alice")
base.home_drive = lsa_string("H:")
base.logon_count = 42
base.bad_password_count = 3
base.rid = 1105
base.primary_gid = 513
base.groups = rids([(513, 7), (512, 7), (1107, 7)])
base.user_flags = 0x220
base.logon_server = lsa_string_large("DC1")
base.logon_domain = lsa_string_large("EXAMPLE")
base.domain_sid = security.dom_sid(DOMAIN)
base.acct_flags = 0x210

info3 = netlogon.netr_SamInfo3()
info3.base = base
sa1 = netlogon.netr_SidAttr()
sa1.sid = security.dom_sid("S-1-18-1")
sa1.attributes = 7
sa2 = netlogon.netr_SidAttr()
sa2.sid = security.dom_sid("S-1-5-21-1-2-3-4444")
sa2.attributes = 0x20000007
info3.sidcount = 2
info3.sids = [sa1, sa2]

li = krb5pac.PAC_LOGON_INFO()
li.info3 = info3
rg = krb5pac.PAC_DOMAIN_GROUP_MEMBERSHIP()
rg.domain_sid = security.dom_sid("S-1-5-21-9-8-7")
rg.groups = rids([(1200, 0x20000007), (1201, 0x20000007)])
li.resource_groups = rg
ctr = krb5pac.PAC_LOGON_INFO_CTR()
ctr.info = li

logon_name = krb5pac.PAC_LOGON_NAME()
logon_name.logon_time = 133136929190000000
logon_name.account_name = "alice"

upn = krb5pac.PAC_UPN_DNS_INFO()
upn.upn_name = "alice@example.com"
upn.dns_domain_name = "EXAMPLE.COM"
upn.flags = krb5pac.PAC_UPN_DNS_FLAG_HAS_SAM_NAME_AND_SID
ex = krb5pac.PAC_UPN_DNS_INFO_SAM_NAME_AND_SID()
ex.samaccountname = "alice"
ex.objectsid = security.dom_sid(DOMAIN + "-1105")
upn.ex = ex

attrs = krb5pac.PAC_ATTRIBUTES_INFO()
attrs.flags_length = 2
attrs.flags = krb5pac.PAC_ATTRIBUTE_FLAG_PAC_WAS_REQUESTED

req = krb5pac.PAC_REQUESTER_SID()
req.sid = security.dom_sid(DOMAIN + "-1105")

cd = krb5pac.PAC_CONSTRAINED_DELEGATION()
cd.proxy_target = lsa_string("cifs/fs.example.com")
cd.num_transited_services = 2
cd.transited_services = [lsa_string("http/web.example.com@EXAMPLE.COM"),
                         lsa_string("host/b.example.com@EXAMPLE.COM")]
cdctr = krb5pac.PAC_CONSTRAINED_DELEGATION_CTR()
cdctr.info = cd


def sig(value):
    s = krb5pac.PAC_SIGNATURE_DATA()
    s.type = 16
    s.signature = value
    return s


def buf(t, info):
    b = krb5pac.PAC_BUFFER()
    b.type = t
    b.info = info
    return b


bufs = [
    buf(krb5pac.PAC_TYPE_LOGON_INFO, ctr),
    buf(krb5pac.PAC_TYPE_LOGON_NAME, logon_name),
    buf(krb5pac.PAC_TYPE_CONSTRAINED_DELEGATION, cdctr),
    buf(krb5pac.PAC_TYPE_UPN_DNS_INFO, upn),
    buf(krb5pac.PAC_TYPE_ATTRIBUTES_INFO, attrs),
    buf(krb5pac.PAC_TYPE_REQUESTER_SID, req),
    buf(krb5pac.PAC_TYPE_SRV_CHECKSUM, sig(bytes(range(1, 13)))),
    buf(krb5pac.PAC_TYPE_KDC_CHECKSUM, sig(bytes(range(13, 25)))),
]
pac = krb5pac.PAC_DATA()
pac.num_buffers = len(bufs)
pac.version = 0
pac.buffers = bufs
print(ndr_pack(pac).hex())
