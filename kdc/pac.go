package kdc

import (
	"strings"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
	"hop/sid"
)

// newPAC builds the PAC of a ticket for client from the directory as it is
// now: its SID, primary group and every group it is in, transitively
// (MS-PAC §2.5-§2.15). Service tickets get a PAC built afresh rather than a
// copy of the TGT's, so that a membership change applies at once.
func (x *exchange) newPAC(client *directory.Account, cname krb5.PrincipalName, authTime time.Time, attrs uint32) *pac.PAC {
	dom := x.dom
	sids := x.snap.SIDs(client.Name)
	var groups []pac.GroupMembership
	if len(sids) > 1 {
		groups = make([]pac.GroupMembership, 0, len(sids)-1)
		for _, s := range sids[1:] {
			groups = append(groups, pac.GroupMembership{RID: s.RID(), Attributes: pac.GroupDefault})
		}
	}
	uac := uint32(pac.UserNormalAccount)
	if client.Kind == directory.KindComputer {
		uac = pac.UserWorkstationTrustAccount
	}
	if client.PasswordExpires.IsZero() {
		uac |= pac.UserDontExpirePassword
	}
	if x.snap.IsSensitive(client.Name) {
		uac |= pac.UserNotDelegated
	}
	if client.TrustedForDelegation {
		uac |= pac.UserTrustedForDelegation
	}
	userSID := client.SID(dom.SID)
	upn, upnFlags := client.UPN, uint32(0)
	if upn == "" {
		upn, upnFlags = client.Name+"@"+strings.ToLower(string(dom.Realm)), pac.UPNConstructed
	}
	return &pac.PAC{
		LogonInfo: &pac.ValidationInfo{
			LogonTime:          authTime,
			PasswordLastSet:    client.PasswordLastSet,
			PasswordCanChange:  client.PasswordLastSet,
			PasswordMustChange: client.PasswordExpires,
			EffectiveName:      client.Name,
			BadPasswordCount:   uint16(min(client.BadPwdCount, 0xffff)),
			UserID:             client.RID,
			PrimaryGroupID:     client.PrimaryGroupRID,
			Groups:             groups,
			LogonServer:        "HOP",
			LogonDomainName:    dom.NetBIOSName,
			LogonDomainID:      dom.SID,
			UserAccountControl: uac,
			ExtraSIDs:          []pac.SIDAndAttributes{{SID: sid.AuthenticationAuthorityAsserted, Attributes: pac.GroupDefault}},
		},
		ClientInfo: &pac.ClientInfo{ClientID: authTime, Name: strings.Join(cname.Components, "/")},
		UPNDNSInfo: &pac.UPNDNSInfo{UPN: upn, DNSDomainName: string(dom.Realm), Flags: upnFlags, SAMName: client.Name, SID: &userSID},
		Attributes: &pac.Attributes{Flags: attrs},
		Requestor:  &pac.Requestor{SID: userSID},
	}
}

// pacAttributes records whether the client asked for a PAC (PA-PAC-REQUEST,
// MS-KILE §2.2.3) in the TGT's PAC_ATTRIBUTES_INFO (MS-PAC §2.14). Without
// it, a PAC is given implicitly; a client that asked for none still gets a
// TGT with a PAC, but its service tickets carry none.
func pacAttributes(req *wire.KDCReq) uint32 {
	for _, p := range req.PAData {
		if p.Type != krb5.PAPACRequest {
			continue
		}
		r, err := wire.ParsePAPACRequest(p.Value)
		if err != nil || !r.IncludePAC {
			return 0
		}
		return pac.AttrPACWasRequested
	}
	return pac.AttrPACWasGivenImplicitly
}

// kdcSigningKey returns the krbtgt key of version kvno (0 = current) that
// makes a PAC's KDC, ticket and full signatures: aes256-cts-hmac-sha1-96, as
// Active Directory uses, when that generation of krbtgt has one (its
// HMAC-SHA1 is several times cheaper than HMAC-SHA384 on the hot path), else
// the generation's strongest key.
func (x *exchange) kdcSigningKey(kvno uint32) (*crypto.Key, bool) {
	tgs, ok := x.snap.Account(directory.NameKrbtgt)
	if !ok {
		return nil, false
	}
	types := generationETypes(tgs, kvno)
	et := krb5.AES256CTSHMACSHA196
	if !contains(types, et) {
		if et, ok = strongest(types); !ok {
			return nil, false
		}
	}
	k, _, ok := x.keys.key(tgs, et, kvno)
	return k, ok
}

// krbtgtGenerations lists the key versions of krbtgt the directory keeps,
// the current one first, then the older ones newest first.
func (x *exchange) krbtgtGenerations() []uint32 {
	tgs, ok := x.snap.Account(directory.NameKrbtgt)
	if !ok {
		return nil
	}
	out := []uint32{tgs.KVNO}
	for _, k := range tgs.OldKeys {
		if k.KVNO != out[len(out)-1] && k.KVNO != tgs.KVNO {
			out = append(out, k.KVNO)
		}
	}
	return out
}

// generationETypes lists the usable types of acct's keys of version kvno
// (0 = current), as usableETypes does for the current ones.
func generationETypes(acct *directory.Account, kvno uint32) []krb5.EncType {
	if kvno == 0 || kvno == acct.KVNO {
		return usableETypes(acct)
	}
	var out []krb5.EncType
	for _, k := range acct.OldKeys {
		if k.KVNO != kvno || !crypto.Supported(k.EncType) || (k.EncType == krb5.RC4HMAC && !acct.AllowRC4) {
			continue
		}
		out = append(out, k.EncType)
	}
	return out
}

// requestPACOptions returns the flags of the request's PA-PAC-OPTIONS
// (MS-KILE §2.2.10), and false when it has none or it does not decode.
func requestPACOptions(req *wire.KDCReq) (krb5.Flags, bool) {
	for _, p := range req.PAData {
		if p.Type != krb5.PAPACOptions {
			continue
		}
		o, err := wire.ParsePAPACOptions(p.Value)
		if err != nil {
			return 0, false
		}
		return o.Flags, true
	}
	return 0, false
}

// pacOptionsKnown are the PA-PAC-OPTIONS bits a KDC echoes: claims,
// branch aware, forward to full DC (MS-KILE §2.2.10) and resource-based
// constrained delegation (MS-SFU §2.2.5).
var pacOptionsKnown = wire.PACOptClaims | wire.PACOptBranchAware | wire.PACOptForwardToFullDC | wire.PACOptResourceBasedDelegation

// pacOptionsEcho returns the PA-PAC-OPTIONS an AS-REP or TGS-REP carries in
// its encrypted-pa-data: when the request's PA-PAC-OPTIONS has any of bits
// 0-3 set, those bits as sent, the others cleared. MS-KILE §3.3.5.7 sets no
// rule for it; the clients of MS-KILE §3.2.5.5 and MS-SFU §3.1.5.1.1 read
// the claims bit of the reply's PA-PAC-OPTIONS, and Samba's tests, run
// against Windows domain controllers (python/samba/tests/krb5/
// raw_testcase.py, generic_check_kdc_rep), require exactly this echo in both
// replies.
func pacOptionsEcho(req *wire.KDCReq) []wire.PAData {
	f, ok := requestPACOptions(req)
	if !ok || f&pacOptionsKnown == 0 {
		return nil
	}
	v, err := (&wire.PAPACOptions{Flags: f & pacOptionsKnown}).Marshal()
	if err != nil {
		return nil
	}
	return []wire.PAData{{Type: krb5.PAPACOptions, Value: v}}
}

// sealPAC signs p for the ticket etp that svcKey seals and puts it first in
// etp's authorization data (MS-PAC §2.8): the server signature with the key
// that seals the ticket, the KDC signature with the krbtgt key, and, in
// tickets to services other than krbtgt, the ticket signature and the full
// PAC checksum with the krbtgt key.
func (k *KDC) sealPAC(x *exchange, etp *wire.EncTicketPart, p *pac.PAC, svc *directory.Account, svcKey *crypto.Key) *refusal {
	kdcKey, ok := x.kdcSigningKey(0)
	if !ok {
		return k.internal("sign PAC", errNoKrbtgt)
	}
	var opts pac.SignOptions
	if !isKrbtgt(svc) {
		in, err := pac.TicketSigningInput(etp)
		if err != nil {
			return k.internal("sign PAC", err)
		}
		opts.Ticket = in
	}
	signed, err := p.Sign(svcKey, kdcKey, opts)
	if err != nil {
		return k.internal("sign PAC", err)
	}
	ad, err := pac.AuthorizationData(signed)
	if err != nil {
		return k.internal("sign PAC", err)
	}
	etp.AuthorizationData = append(ad, etp.AuthorizationData...)
	return nil
}

// tgtPAC checks the PAC of a TGT presented to the TGS: its server signature
// with the krbtgt key that sealed the TGT and its KDC signature with the
// krbtgt signing key of the same version, and that it still describes the
// account the directory has under that name (an account deleted and created
// again gets a new SID). A TGT is bound to its session key, which only the
// KDC could have put in it, so a PAC verified once is remembered for the
// session key and not verified again. It returns the PAC and the remaining
// authorization data.
func (k *KDC) tgtPAC(x *exchange, etp *wire.EncTicketPart, tgtKey *crypto.Key, kvno uint32, client *directory.Account) (*pac.PAC, wire.AuthorizationData, *refusal) {
	raw, found, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil {
		return nil, nil, refuse(krb5.KRBAPErrModified, "the ticket's PAC is malformed").ruled("tgt-pac")
	}
	if !found {
		return nil, nil, refuse(krb5.KDCErrTGTRevoked, "the ticket-granting ticket carries no PAC; get a new one (kinit)").ruled("tgt-without-pac")
	}
	p, ok := k.verified.get(etp.Key.Type, etp.Key.Value, raw)
	if !ok {
		kdcKey, ok := x.kdcSigningKey(kvno)
		if !ok {
			return nil, nil, refuse(krb5.KRBAPErrBadKeyVer, "the KDC no longer has the key that signed this ticket's PAC; get a new ticket (kinit)")
		}
		if p, err = pac.Verify(raw, tgtKey, kdcKey, pac.SignOptions{}); err != nil {
			return nil, nil, refuse(krb5.KRBAPErrModified, "the PAC of the ticket-granting ticket does not verify (tampered with?)").ruled("tgt-pac")
		}
		k.verified.put(etp.Key.Type, etp.Key.Value, raw, p)
	}
	if p.Requestor != nil && !p.Requestor.SID.Equal(client.SID(x.dom.SID)) {
		return nil, nil, refuse(krb5.KDCErrTGTRevoked, "the ticket-granting ticket was issued to another account named %s; get a new one (kinit)", client.Name).ruled("tgt-requestor")
	}
	return p, withoutPAC(etp.AuthorizationData), nil
}

// withoutPAC returns ad without the AD-IF-RELEVANT elements that hold a PAC.
func withoutPAC(ad wire.AuthorizationData) wire.AuthorizationData {
	var out wire.AuthorizationData
	for _, e := range ad {
		if e.Type == krb5.ADIfRelevant {
			if inner, err := wire.ParseAuthorizationData(e.Data); err == nil {
				has := false
				for _, ie := range inner {
					has = has || ie.Type == krb5.ADWin2KPAC
				}
				if has {
					continue
				}
			}
		}
		out = append(out, e)
	}
	return out
}

type kdcError string

func (e kdcError) Error() string { return string(e) }

const errNoKrbtgt = kdcError("the directory has no usable krbtgt key")
