package service

import (
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
	"hop/pac"
)

// DefaultMaxSkew is the clock skew allowed when Acceptor.MaxSkew is zero
// (RFC 4120 §1.6 suggests five minutes).
const DefaultMaxSkew = 5 * time.Minute

// MaxAPReqLen bounds the AP-REQ Accept decodes. A ticket with a large PAC
// (a user in hundreds of groups) stays well under it.
const MaxAPReqLen = 64 << 10

// Acceptor accepts AP-REQs for the services whose keys Keys holds. Its
// fields must not change once Accept has been called; Accept is safe for
// concurrent use. An Acceptor must not be copied after first use.
type Acceptor struct {
	// Keys finds the service's long-term keys.
	Keys Keytab
	// AcceptServer, if set, says which server principals are acceptable
	// (nil: any that Keys knows).
	AcceptServer func(server krb5.Principal) bool
	// MaxSkew is the clock skew allowed (default DefaultMaxSkew).
	MaxSkew time.Duration
	// Replay is the replay cache; nil: the Acceptor makes its own on first
	// use, with a window of MaxSkew.
	Replay *ReplayCache
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the source of the AP-REP's confounder (default crypto/rand).
	Rand io.Reader

	once   sync.Once
	replay *ReplayCache
}

// Accepted is an AP-REQ that passed every check.
type Accepted struct {
	Client, Server krb5.Principal
	Ticket         *wire.EncTicketPart
	// Sealed is the ticket as the client sent it, still sealed with the
	// service's key: the evidence of S4U2Proxy (MS-SFU §3.2.5.2.1).
	Sealed        wire.Ticket
	Authenticator *wire.Authenticator
	SessionKey    *crypto.Key
	Subkey        *crypto.Key // the authenticator's subkey, nil if none
	PAC           *pac.PAC    // the PAC, server signature verified; nil if the ticket has none
	Mutual        bool        // AP-OPTIONS mutual-required

	// Options are the AP-OPTIONS of the request.
	Options krb5.Flags

	rand io.Reader
}

func (a *Acceptor) now() time.Time {
	if a != nil && a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Acceptor) skew() time.Duration {
	if a.MaxSkew > 0 {
		return a.MaxSkew
	}
	return DefaultMaxSkew
}

func (a *Acceptor) rand() io.Reader {
	if a.Rand != nil {
		return a.Rand
	}
	return rand.Reader
}

func (a *Acceptor) replayCache() *ReplayCache {
	if a.Replay != nil {
		return a.Replay
	}
	a.once.Do(func() { a.replay = NewReplayCache(a.skew()) })
	return a.replay
}

// Accept decodes and checks apReq (RFC 4120 §3.2.3) as the package
// documentation lists. Any refusal is an *Error.
func (a *Acceptor) Accept(apReq []byte) (*Accepted, error) {
	if a.Keys == nil {
		return nil, refuse(krb5.KRBAPErrNoKey, "the acceptor has no keytab")
	}
	if len(apReq) > MaxAPReqLen {
		return nil, refuse(krb5.KRBErrFieldToolong, "AP-REQ of %d bytes (at most %d)", len(apReq), MaxAPReqLen)
	}
	req, err := wire.ParseAPReq(apReq)
	if err != nil {
		if errors.Is(err, wire.ErrBadPVNO) {
			return nil, refuse(krb5.KRBAPErrBadVersion, "%v", err)
		}
		return nil, refuse(krb5.KRBAPErrMsgType, "%v", err)
	}
	if req.Options.Has(krb5.APUseSessionKey) {
		return nil, refuse(krb5.KRBAPErrMethod, "user-to-user authentication (use-session-key) is not offered")
	}
	server := krb5.Principal{Name: req.Ticket.SName, Realm: req.Ticket.Realm}
	if a.AcceptServer != nil && !a.AcceptServer(server) {
		return nil, refuse(krb5.KRBAPErrNotUs, "the ticket is for %s, which this service does not accept", server)
	}
	kvno := uint32(0)
	if req.Ticket.EncPart.HasKVNO {
		kvno = req.Ticket.EncPart.KVNO
	}
	etype := req.Ticket.EncPart.EType
	skey, err := a.Keys.Key(server, etype, kvno)
	if err != nil {
		return nil, keyError(server, etype, kvno, err)
	}
	if skey == nil || skey.EncType() != etype {
		return nil, refuse(krb5.KRBAPErrNoKey, "the keytab gave no %v key for %s", etype, server)
	}
	plain, err := skey.Decrypt(krb5.UsageTicket, req.Ticket.EncPart.Cipher)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "the ticket for %s does not decrypt with its kvno %d %v key", server, kvno, etype)
	}
	tkt, err := wire.ParseEncTicketPart(plain)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "ticket: %v", err)
	}
	if !crypto.Supported(tkt.Key.Type) {
		return nil, refuse(krb5.KDCErrETypeNoSupp, "session key of type %v", tkt.Key.Type)
	}
	sk, err := crypto.NewKey(tkt.Key.Type, tkt.Key.Value)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "session key: %v", err)
	}
	if req.Authenticator.EType != sk.EncType() {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "authenticator sealed with %v, the session key is %v", req.Authenticator.EType, sk.EncType())
	}
	plain, err = sk.Decrypt(krb5.UsageAPReqAuthenticator, req.Authenticator.Cipher)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "the authenticator does not decrypt with the ticket's session key")
	}
	auth, err := wire.ParseAuthenticator(plain)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrBadIntegrity, "authenticator: %v", err)
	}
	client := krb5.Principal{Name: tkt.CName, Realm: tkt.CRealm}
	if !auth.CName.Equal(tkt.CName) || !auth.CRealm.Equal(tkt.CRealm) {
		return nil, refuse(krb5.KRBAPErrBadMatch, "the authenticator names %s, the ticket %s",
			krb5.Principal{Name: auth.CName, Realm: auth.CRealm}, client)
	}
	now := a.now()
	skew := a.skew()
	ctime := auth.CTime.Add(time.Duration(auth.Cusec) * time.Microsecond)
	if d := now.Sub(ctime); d > skew || -d > skew {
		return nil, refuse(krb5.KRBAPErrSkew, "the client's clock is %v off (at most %v allowed)", d.Round(time.Second), skew)
	}
	if tkt.Flags.Has(krb5.TktInvalid) {
		return nil, refuse(krb5.KRBAPErrTktNYV, "the ticket is marked invalid (postdated, not yet validated)")
	}
	start := tkt.StartTime
	if start.IsZero() {
		start = tkt.AuthTime
	}
	if start.Sub(now) > skew {
		return nil, refuse(krb5.KRBAPErrTktNYV, "the ticket is valid from %s", start.UTC().Format(time.RFC3339))
	}
	if now.Sub(tkt.EndTime) > skew {
		return nil, refuse(krb5.KRBAPErrTktExpired, "the ticket expired at %s", tkt.EndTime.UTC().Format(time.RFC3339))
	}
	var subkey *crypto.Key
	if auth.SubKey != nil {
		if !crypto.Supported(auth.SubKey.Type) {
			return nil, refuse(krb5.KDCErrETypeNoSupp, "authenticator subkey of type %v", auth.SubKey.Type)
		}
		if subkey, err = crypto.NewKey(auth.SubKey.Type, auth.SubKey.Value); err != nil {
			return nil, refuse(krb5.KRBAPErrBadIntegrity, "authenticator subkey: %v", err)
		}
	}
	p, err := ticketPAC(tkt, skey, client)
	if err != nil {
		return nil, err
	}
	switch err := a.replayCache().add(req.Authenticator.Cipher, ctime, skew, now); {
	case errors.Is(err, errReplay):
		return nil, refuse(krb5.KRBAPErrRepeat, "authenticator of %s at %s replayed", client, ctime.UTC().Format(time.RFC3339Nano))
	case err != nil:
		return nil, &Error{Code: krb5.KRBErrGeneric, Text: err.Error(), cause: err}
	}
	return &Accepted{
		Client:        client,
		Server:        server,
		Ticket:        tkt,
		Sealed:        req.Ticket,
		Authenticator: auth,
		SessionKey:    sk,
		Subkey:        subkey,
		PAC:           p,
		Mutual:        req.Options.Has(krb5.APMutualRequired),
		Options:       req.Options,
		rand:          a.rand(),
	}, nil
}

// ticketPAC finds, verifies and checks the ticket's PAC (nil if none).
func ticketPAC(tkt *wire.EncTicketPart, skey *crypto.Key, client krb5.Principal) (*pac.PAC, error) {
	b, ok, err := pac.FromAuthorizationData(tkt.AuthorizationData)
	if err != nil {
		return nil, refuse(krb5.KRBAPErrModified, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	p, err := pac.Verify(b, skey, nil, pac.SignOptions{})
	if err != nil {
		return nil, refuse(krb5.KRBAPErrModified, "%v", err)
	}
	ci := p.ClientInfo
	if ci == nil {
		return nil, refuse(krb5.KRBAPErrModified, "the PAC has no PAC_CLIENT_INFO")
	}
	if !ci.ClientID.Truncate(time.Second).Equal(tkt.AuthTime.Truncate(time.Second)) {
		return nil, refuse(krb5.KRBAPErrModified, "the PAC is from an authentication at %s, the ticket's at %s",
			ci.ClientID.UTC().Format(time.RFC3339), tkt.AuthTime.UTC().Format(time.RFC3339))
	}
	if !pacNameMatches(ci.Name, client) {
		return nil, refuse(krb5.KRBAPErrModified, "the PAC names %q, the ticket %s", ci.Name, client)
	}
	return p, nil
}

// pacNameMatches compares PAC_CLIENT_INFO's name with the ticket's client,
// ignoring case as Active Directory names do: the name is the components
// joined by "/", with or without the realm, or for an enterprise name
// (alice@example.test) the single component.
func pacNameMatches(name string, client krb5.Principal) bool {
	plain := strings.Join(client.Name.Components, "/")
	if strings.EqualFold(name, plain) {
		return true
	}
	return strings.EqualFold(name, plain+"@"+string(client.Realm))
}

// Key is the subkey if present, else the session key (RFC 4120 §3.2.6 for
// KRB-PRIV/SAFE).
func (x *Accepted) Key() *crypto.Key {
	if x.Subkey != nil {
		return x.Subkey
	}
	return x.SessionKey
}

// APRep builds the AP-REP (RFC 4120 §3.2.4, §5.5.2): ctime and cusec from
// the authenticator, the optional subkey and sequence number (nil: none),
// sealed in the ticket's session key with key usage 12.
func (x *Accepted) APRep(subkey *crypto.Key, seq *uint32) ([]byte, error) {
	part := wire.EncAPRepPart{CTime: x.Authenticator.CTime, Cusec: x.Authenticator.Cusec, SeqNumber: seq}
	if subkey != nil {
		part.SubKey = &wire.EncryptionKey{Type: subkey.EncType(), Value: subkey.Material()}
	}
	plain, err := part.Marshal()
	if part.SubKey != nil {
		clear(part.SubKey.Value)
	}
	if err != nil {
		return nil, err
	}
	r := x.rand
	if r == nil {
		r = rand.Reader
	}
	ct, err := x.SessionKey.Encrypt(r, krb5.UsageAPRepEncPart, plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	return (&wire.APRep{EncPart: wire.EncryptedData{EType: x.SessionKey.EncType(), Cipher: ct}}).Marshal()
}
