package kdc

import (
	"context"
	"testing"
	"time"

	"hop/directory"
	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// keyOf returns acct's current key of type e as a crypto key.
func keyOf(t *testing.T, d *directory.Directory, acct string, e krb5.EncType) *crypto.Key {
	t.Helper()
	a, err := d.Account(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	dk, ok := a.KeyFor(e, 0)
	if !ok {
		t.Fatalf("%s has no %s key", acct, e)
	}
	k, err := crypto.NewKey(e, dk.Material())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ticketPAC decrypts tkt with key and returns its EncTicketPart and PAC bytes.
func ticketPAC(t *testing.T, tkt wire.Ticket, key *crypto.Key) (*wire.EncTicketPart, []byte, bool) {
	t.Helper()
	plain, err := key.Decrypt(krb5.UsageTicket, tkt.EncPart.Cipher)
	if err != nil {
		t.Fatal(err)
	}
	etp, err := wire.ParseEncTicketPart(plain)
	if err != nil {
		t.Fatal(err)
	}
	raw, found, err := pac.FromAuthorizationData(etp.AuthorizationData)
	if err != nil {
		t.Fatal(err)
	}
	return etp, raw, found
}

func TestTicketsCarryASignedPAC(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	tgtKey := keyOf(t, f.dir, "krbtgt", tgt.Ticket.EncPart.EType)
	_, raw, found := ticketPAC(t, tgt.Ticket, tgtKey)
	if !found {
		t.Fatal("the TGT has no PAC")
	}
	// The KDC signs with krbtgt's aes256-cts-hmac-sha1-96 key, as AD does.
	kdcKey := keyOf(t, f.dir, "krbtgt", krb5.AES256CTSHMACSHA196)
	if _, err := pac.Verify(raw, tgtKey, kdcKey, pac.SignOptions{}); err != nil {
		t.Fatalf("TGT PAC: %v", err)
	}

	// A group added now shows in the next service ticket's PAC.
	if _, err := f.dir.As(directory.LocalAdmin).CreateGroup(ctx, "Web Admins", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.As(directory.LocalAdmin).AddMember(ctx, "Web Admins", "alice", 0); err != nil {
		t.Fatal(err)
	}
	st, err := f.conn(client.UDPThenTCP).ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b.example.test")})
	if err != nil {
		t.Fatal(err)
	}
	svcKey := keyOf(t, f.dir, "b$", st.Ticket.EncPart.EType)
	etp, raw, found := ticketPAC(t, st.Ticket, svcKey)
	if !found {
		t.Fatal("the service ticket has no PAC")
	}
	in, err := pac.TicketSigningInput(etp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pac.Verify(raw, svcKey, kdcKey, pac.SignOptions{Ticket: in})
	if err != nil {
		t.Fatalf("service ticket PAC: %v", err)
	}
	snap, err := f.dir.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := snap.Account("alice")
	g, _ := snap.Group("Web Admins")
	li := p.LogonInfo
	if li == nil || li.UserID != a.RID || li.PrimaryGroupID != 513 || li.EffectiveName != "alice" {
		t.Fatalf("logon info = %+v", li)
	}
	var inGroup, asserted bool
	for _, m := range li.Groups {
		inGroup = inGroup || m.RID == g.RID
	}
	for _, x := range li.ExtraSIDs {
		asserted = asserted || x.SID.String() == "S-1-18-1"
	}
	if !inGroup || !asserted {
		t.Errorf("groups %+v, extra SIDs %+v", li.Groups, li.ExtraSIDs)
	}
	if p.ClientInfo == nil || p.ClientInfo.Name != "alice" || !p.ClientInfo.ClientID.Equal(etp.AuthTime) {
		t.Errorf("client info %+v (authtime %v)", p.ClientInfo, etp.AuthTime)
	}
	if p.UPNDNSInfo == nil || p.UPNDNSInfo.UPN != "alice@example.test" || p.Requestor == nil || p.Requestor.SID.RID() != a.RID {
		t.Errorf("upn %+v requestor %+v", p.UPNDNSInfo, p.Requestor)
	}
}

func TestTamperedTGTPACIsRefused(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tgt, err := f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	tgtKey := keyOf(t, f.dir, "krbtgt", tgt.Ticket.EncPart.EType)
	etp, raw, _ := ticketPAC(t, tgt.Ticket, tgtKey)
	p, err := pac.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Claim Domain Admins, keeping the old signatures.
	p.LogonInfo.Groups = append(p.LogonInfo.Groups, pac.GroupMembership{RID: 512, Attributes: pac.GroupDefault})
	forged, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ad, err := pac.AuthorizationData(forged)
	if err != nil {
		t.Fatal(err)
	}
	etp.AuthorizationData = append(ad, withoutPAC(etp.AuthorizationData)...)
	plain, err := etp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if tgt.Ticket.EncPart.Cipher, err = tgtKey.Encrypt(nil, krb5.UsageTicket, plain); err != nil {
		t.Fatal(err)
	}
	tgt.Ticket.Raw = nil
	_, err = f.conn(client.TCPOnly).ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")})
	wantCode(t, err, krb5.KRBAPErrModified)
}

func TestNoPAC(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// A client that asks for no PAC gets a TGT with one (recording the
	// request) and service tickets without.
	tgt, err := f.login(&client.Request{Client: alice(), NoPAC: true}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	c := f.conn(client.TCPOnly)
	st, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, found := ticketPAC(t, st.Ticket, keyOf(t, f.dir, "b$", st.Ticket.EncPart.EType)); found {
		t.Error("service ticket has a PAC though the client asked for none")
	}
	// A service with no-auth-data-required gets none either.
	if _, err := f.dir.As(directory.LocalAdmin).SetDelegation(ctx, "b$", directory.DelegationChange{NoAuthDataRequired: ptr(true)}, 0); err != nil {
		t.Fatal(err)
	}
	tgt, err = f.login(&client.Request{Client: alice()}, alicePW)
	if err != nil {
		t.Fatal(err)
	}
	st, err = c.ServiceTicket(ctx, tgt, &client.Request{Service: krb5.NewName(krb5.NTSrvHst, "host", "b")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, found := ticketPAC(t, st.Ticket, keyOf(t, f.dir, "b$", st.Ticket.EncPart.EType)); found {
		t.Error("no-auth-data-required service got a PAC")
	}
}

func ptr[T any](v T) *T { return &v }

func TestSensitiveProtectedAndUnconstrained(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c := f.conn(client.TCPOnly)
	host := krb5.NewName(krb5.NTSrvHst, "host", "b")
	req := func() *client.Request {
		return &client.Request{Client: alice(), Options: krb5.OptForwardable | krb5.OptProxiable | krb5.OptRenewable, Lifetime: 10 * time.Hour, RenewLifetime: 24 * time.Hour}
	}

	// Unconstrained delegation: tickets to b$ say OK-AS-DELEGATE.
	if _, err := f.dir.As(directory.LocalAdmin).SetDelegation(ctx, "b$", directory.DelegationChange{TrustedForDelegation: ptr(true)}, 0); err != nil {
		t.Fatal(err)
	}
	tgt, err := f.login(req(), alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if !tgt.Flags.Has(krb5.TktForwardable|krb5.TktProxiable) || tgt.Flags.Has(krb5.TktOKAsDelegate) {
		t.Errorf("TGT flags %s", krb5.TicketFlagString(tgt.Flags))
	}
	st, err := c.ServiceTicket(ctx, tgt, &client.Request{Service: host, Options: krb5.OptForwardable})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Flags.Has(krb5.TktOKAsDelegate | krb5.TktForwardable) {
		t.Errorf("ticket to an unconstrained service: %s", krb5.TicketFlagString(st.Flags))
	}

	// A sensitive account gets no forwardable or proxiable ticket, at the
	// AS and, with a TGT from before, at the TGS.
	if _, err := f.dir.As(directory.LocalAdmin).SetDelegation(ctx, "alice", directory.DelegationChange{Sensitive: ptr(true)}, 0); err != nil {
		t.Fatal(err)
	}
	st, err = c.ServiceTicket(ctx, tgt, &client.Request{Service: host, Options: krb5.OptForwardable | krb5.OptProxiable})
	if err != nil {
		t.Fatal(err)
	}
	if st.Flags.Has(krb5.TktForwardable) || st.Flags.Has(krb5.TktProxiable) {
		t.Errorf("sensitive, TGS: %s", krb5.TicketFlagString(st.Flags))
	}
	s, err := f.login(req(), alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags.Has(krb5.TktForwardable) || s.Flags.Has(krb5.TktProxiable) {
		t.Errorf("sensitive, AS: %s", krb5.TicketFlagString(s.Flags))
	}
	if _, err := f.dir.As(directory.LocalAdmin).SetDelegation(ctx, "alice", directory.DelegationChange{Sensitive: ptr(false)}, 0); err != nil {
		t.Fatal(err)
	}

	// Protected Users, through a nested group: the same, and a 4-hour TGT.
	if _, err := f.dir.As(directory.LocalAdmin).CreateGroup(ctx, "Tier 0", ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range [][2]string{{"Tier 0", "alice"}, {"Protected Users", "Tier 0"}} {
		if _, err := f.dir.As(directory.LocalAdmin).AddMember(ctx, m[0], m[1], 0); err != nil {
			t.Fatal(err)
		}
	}
	p, err := f.login(req(), alicePW)
	if err != nil {
		t.Fatal(err)
	}
	if p.Flags.Has(krb5.TktForwardable) || p.EndTime.Sub(p.StartTime) != 4*time.Hour || p.RenewTill.Sub(p.StartTime) != 4*time.Hour {
		t.Errorf("Protected Users TGT: %s, life %s, renewable %s", krb5.TicketFlagString(p.Flags), p.EndTime.Sub(p.StartTime), p.RenewTill.Sub(p.StartTime))
	}
}

func TestProtectedUsersRefuseRC4Preauth(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	rc4 := []krb5.EncType{krb5.RC4HMAC}
	if _, err := f.dir.As(directory.LocalAdmin).CreateAccount(ctx, &directory.Account{Name: "legacy", Kind: directory.KindUser, AllowRC4: true}, pwKeys(t, "legacy", "Legacy-1", append(rc4, allAES...))); err != nil {
		t.Fatal(err)
	}
	legacy := krb5.Principal{Name: krb5.NewName(krb5.NTPrincipal, "legacy"), Realm: realm}
	// Pre-authenticate with the RC4 key; the session key may be AES.
	rc4Logon := func() error {
		c := f.conn(client.UDPThenTCP)
		r := &client.Request{Client: legacy, ETypes: []krb5.EncType{krb5.RC4HMAC, krb5.AES256CTSHMACSHA196}}
		info, err := c.PreauthInfo(ctx, r)
		if err != nil {
			return err
		}
		for _, e := range info {
			if e.EType == krb5.RC4HMAC {
				key, err := client.KeyFromPassword(legacy, "Legacy-1", []wire.ETypeInfo2Entry{e})
				if err != nil {
					return err
				}
				_, err = c.LoginWithKey(ctx, r, key)
				return err
			}
		}
		t.Fatalf("no RC4 in ETYPE-INFO2 %+v", info)
		return nil
	}
	if err := rc4Logon(); err != nil {
		t.Fatalf("RC4 logon of an account that allows it: %v", err)
	}
	if _, err := f.dir.As(directory.LocalAdmin).AddMember(ctx, "Protected Users", "legacy", 0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, rc4Logon(), krb5.KDCErrETypeNoSupp)
	if _, err := f.login(&client.Request{Client: legacy}, "Legacy-1"); err != nil {
		t.Fatalf("AES logon in Protected Users: %v", err)
	}
}
