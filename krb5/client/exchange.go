package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// Error is a KRB-ERROR a KDC answered with.
type Error struct {
	Code krb5.ErrorCode
	Msg  *wire.KRBError
	// Status is the NTSTATUS an Active Directory KDC (and hop) puts in the
	// error's e-data as KERB-ERROR-DATA (MS-KILE §2.2.1, §2.2.2), for
	// instance STATUS_NOT_FOUND when resource-based delegation is refused;
	// HasStatus says whether the e-data carried one.
	Status    wire.NTStatus
	HasStatus bool
}

func (e *Error) Error() string {
	s := "client: KDC refused: " + e.Code.String()
	if e.HasStatus {
		s += " (" + e.Status.String() + ")"
	}
	if e.Msg != nil && e.Msg.EText != "" {
		s += ": " + e.Msg.EText
	}
	return s
}

func (e *Error) Unwrap() error { return e.Code }

// Refusal is err as a user reads a KDC's refusal: the error code and, when
// the KDC gave one, its e-text, which names the rule that refused. ok is
// false when err is not a KDC's refusal.
func Refusal(err error) (text string, ok bool) {
	var kerr *Error
	if !errors.As(err, &kerr) {
		return "", false
	}
	text = kerr.Code.String()
	if kerr.Msg != nil && kerr.Msg.EText != "" {
		text += ": " + kerr.Msg.EText
	}
	return text, true
}

// ErrBadReply is wrapped by errors about replies a careful client rejects.
var ErrBadReply = errors.New("client: unacceptable reply from the KDC")

// DefaultETypes is what a request offers when it names none, strongest first.
var DefaultETypes = []krb5.EncType{
	krb5.AES256CTSHMACSHA384192, krb5.AES128CTSHMACSHA256128,
	krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA196,
}

// Credential is a ticket and what its holder needs to use it.
type Credential struct {
	Client     krb5.Principal
	Server     krb5.Principal
	Ticket     wire.Ticket
	SessionKey *crypto.Key
	Flags      krb5.Flags
	AuthTime   time.Time
	StartTime  time.Time
	EndTime    time.Time
	RenewTill  time.Time
	// EncPAData is the reply's encrypted-pa-data (RFC 6806 §11), where a
	// KDC echoes PA-PAC-OPTIONS (MS-KILE §2.2.10).
	EncPAData []wire.PAData
}

// Request holds the options of one AS or TGS request.
type Request struct {
	// Client is the principal asking (AS only; the TGS takes it from the TGT).
	Client krb5.Principal
	// Service is the ticket's server; AS defaults to krbtgt/REALM.
	Service krb5.PrincipalName
	// Realm of the service; defaults to the client's (AS) or TGT's (TGS) realm.
	Realm krb5.Realm
	// ETypes offered, in order; default DefaultETypes.
	ETypes []krb5.EncType
	// Options are the KDC options (krb5.Opt*).
	Options krb5.Flags
	// Lifetime asked for; default 10 hours.
	Lifetime time.Duration
	// RenewLifetime asked for when Options has OptRenewable.
	RenewLifetime time.Duration
	// Subkey adds an authenticator subkey to a TGS request; the reply is then
	// sealed in it (RFC 4120 §5.4.2).
	Subkey bool
	// NoChecksum leaves the body checksum out of a TGS authenticator, as
	// impacket does.
	NoChecksum bool
	// NoPAC asks for tickets without a PAC (PA-PAC-REQUEST include-pac
	// false, MS-KILE §2.2.3).
	NoPAC bool
	// PACOptions are sent as PA-PAC-OPTIONS (MS-KILE §2.2.10; the
	// wire.PACOpt* bits) when non-zero, in AS and TGS requests.
	PACOptions krb5.Flags

	// Impersonate makes a TGS request an S4U2Self request (MS-SFU
	// §3.1.5.1.1): a ticket to the requesting service itself (Service, by
	// default the TGT's client name) in the name of this user (its realm
	// defaults to the TGT client's), who need not take part. The request carries the padata S4UPAData chooses; the
	// reply must name the user, and its PA-S4U-X509-USER must carry the
	// request's nonce and a checksum that verifies.
	Impersonate *krb5.Principal
	// S4UPAData chooses the padata of an S4U2Self request.
	S4UPAData S4UPAData
	// Evidence makes a TGS request an S4U2Proxy request (MS-SFU
	// §3.1.5.2.1): a ticket to Service in the name of the client of
	// Evidence, the user's ticket to the requesting service (from
	// S4U2Self or from the user). It goes in additional-tickets with the
	// cname-in-addl-tkt option; the reply must name Evidence's client.
	Evidence *Credential
	// ResourceBased adds the resource-based constrained delegation bit to
	// PA-PAC-OPTIONS (MS-SFU §2.2.5), which asks the KDC to try
	// resource-based delegation when classic constrained delegation does
	// not allow the request.
	ResourceBased bool
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

func (r *Request) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Request) rand() io.Reader {
	if r.Rand != nil {
		return r.Rand
	}
	return rand.Reader
}

// pacOptions returns the PA-PAC-OPTIONS to send, or false.
func (r *Request) pacOptions() (wire.PAData, bool, error) {
	f := r.PACOptions
	if r.ResourceBased {
		f |= wire.PACOptResourceBasedDelegation
	}
	if f == 0 {
		return wire.PAData{}, false, nil
	}
	v, err := (&wire.PAPACOptions{Flags: f}).Marshal()
	if err != nil {
		return wire.PAData{}, false, err
	}
	return wire.PAData{Type: krb5.PAPACOptions, Value: v}, true, nil
}

func (r *Request) etypes() []krb5.EncType {
	if len(r.ETypes) > 0 {
		return r.ETypes
	}
	return DefaultETypes
}

func (r *Request) nonce() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r.rand(), b[:]); err != nil {
		return 0, fmt.Errorf("client: nonce: %w", err)
	}
	return binary.BigEndian.Uint32(b[:]) & 0x7fffffff, nil
}

func (r *Request) body(now time.Time, realm krb5.Realm, sname krb5.PrincipalName) (wire.KDCReqBody, error) {
	life := r.Lifetime
	if life <= 0 {
		life = 10 * time.Hour
	}
	nonce, err := r.nonce()
	if err != nil {
		return wire.KDCReqBody{}, err
	}
	b := wire.KDCReqBody{
		Options: r.Options,
		Realm:   realm,
		SName:   &sname,
		Till:    now.Add(life).UTC().Truncate(time.Second),
		Nonce:   nonce,
		ETypes:  r.etypes(),
	}
	if r.Options.Has(krb5.OptRenewable) && r.RenewLifetime > 0 {
		b.RTime = now.Add(r.RenewLifetime).UTC().Truncate(time.Second)
	}
	return b, nil
}

// PreauthInfo sends an AS-REQ without pre-authentication and returns the
// PA-ETYPE-INFO2 entries of the KDC's PREAUTH_REQUIRED answer: the types
// and salts of the client's keys.
func (c *Conn) PreauthInfo(ctx context.Context, r *Request) ([]wire.ETypeInfo2Entry, error) {
	msg, _, err := r.asReq(nil)
	if err != nil {
		return nil, err
	}
	rep, err := c.RoundTrip(ctx, msg)
	if err != nil {
		return nil, err
	}
	kerr, err := asError(rep)
	if err != nil {
		return nil, err
	}
	if kerr == nil {
		return nil, fmt.Errorf("%w: the KDC issued a ticket without pre-authentication", ErrBadReply)
	}
	if kerr.Code != krb5.KDCErrPreauthRequired {
		return nil, kerr
	}
	md, err := wire.ParseMethodData(kerr.Msg.EData)
	if err != nil {
		return nil, fmt.Errorf("%w: PREAUTH_REQUIRED e-data: %v", ErrBadReply, err)
	}
	for _, pa := range md {
		if pa.Type == krb5.PAETypeInfo2 {
			info, err := wire.ParseETypeInfo2(pa.Value)
			if err != nil {
				return nil, fmt.Errorf("%w: PA-ETYPE-INFO2: %v", ErrBadReply, err)
			}
			return info, nil
		}
	}
	return nil, fmt.Errorf("%w: PREAUTH_REQUIRED without PA-ETYPE-INFO2", ErrBadReply)
}

// KeyFromPassword derives the client's key from password with the first
// entry of info whose type this package supports.
func KeyFromPassword(p krb5.Principal, password string, info []wire.ETypeInfo2Entry) (*crypto.Key, error) {
	pw := []byte(password)
	defer clear(pw)
	return KeyFromPasswordSecret(p, pw, info)
}

// KeyFromPasswordSecret is KeyFromPassword with the password in a buffer
// the caller owns and zeroes (crypto.StringToKeySecret).
func KeyFromPasswordSecret(p krb5.Principal, password []byte, info []wire.ETypeInfo2Entry) (*crypto.Key, error) {
	for _, e := range info {
		if !crypto.Supported(e.EType) {
			continue
		}
		salt := crypto.DefaultSalt(p)
		if e.Salt != nil {
			salt = *e.Salt
		}
		return crypto.StringToKeySecret(e.EType, password, salt, e.S2KParams)
	}
	return nil, fmt.Errorf("client: the KDC offers no supported key type for %s", p)
}

// Login gets a ticket (a TGT by default) for r.Client with its password.
func (c *Conn) Login(ctx context.Context, r *Request, password string) (*Credential, *crypto.Key, error) {
	pw := []byte(password)
	defer clear(pw)
	return c.LoginSecret(ctx, r, pw)
}

// LoginSecret is Login with the password in a buffer the caller owns and
// zeroes: no copy of it is left in memory.
func (c *Conn) LoginSecret(ctx context.Context, r *Request, password []byte) (*Credential, *crypto.Key, error) {
	info, err := c.PreauthInfo(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	key, err := KeyFromPasswordSecret(r.Client, password, info)
	if err != nil {
		return nil, nil, err
	}
	cred, err := c.LoginWithKey(ctx, r, key)
	return cred, key, err
}

// LoginWithKey sends one pre-authenticated AS-REQ with key and checks the
// reply.
func (c *Conn) LoginWithKey(ctx context.Context, r *Request, key *crypto.Key) (*Credential, error) {
	msg, body, err := r.asReq(key)
	if err != nil {
		return nil, err
	}
	rep, err := c.RoundTrip(ctx, msg)
	if err != nil {
		return nil, err
	}
	kerr, err := asError(rep)
	if err != nil {
		return nil, err
	}
	if kerr != nil {
		return nil, kerr
	}
	return readReply(rep, krb5.MsgASRep, body, key, krb5.UsageASRepEncPart, r.Options.Has(krb5.OptCanonicalize), r.Client)
}

// asReq encodes an AS-REQ; key, when set, pre-authenticates it.
func (r *Request) asReq(key *crypto.Key) ([]byte, *wire.KDCReqBody, error) {
	now := r.now()
	realm := r.Client.Realm
	sname := r.Service
	if sname.IsZero() {
		sname = krb5.NewName(krb5.NTSrvInst, "krbtgt", string(realm))
	}
	if r.Realm != "" {
		realm = r.Realm
	}
	body, err := r.body(now, realm, sname)
	if err != nil {
		return nil, nil, err
	}
	cname := r.Client.Name
	body.CName = &cname
	req := wire.KDCReq{MsgType: krb5.MsgASReq, Body: body}
	pac, err := (&wire.PAPACRequest{IncludePAC: !r.NoPAC}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	if key != nil {
		usec := int32(now.Nanosecond() / 1000)
		ts, err := (&wire.PAEncTSEnc{PATimestamp: now.UTC().Truncate(time.Second), PAUsec: &usec}).Marshal()
		if err != nil {
			return nil, nil, err
		}
		ct, err := key.Encrypt(r.rand(), krb5.UsageASReqPAEncTimestamp, ts)
		if err != nil {
			return nil, nil, err
		}
		ed, err := (&wire.EncryptedData{EType: key.EncType(), Cipher: ct}).Marshal()
		if err != nil {
			return nil, nil, err
		}
		req.PAData = append(req.PAData, wire.PAData{Type: krb5.PAEncTimestamp, Value: ed})
	}
	req.PAData = append(req.PAData, wire.PAData{Type: krb5.PAPACRequest, Value: pac})
	if opts, ok, err := r.pacOptions(); err != nil {
		return nil, nil, err
	} else if ok {
		req.PAData = append(req.PAData, opts)
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return b, &req.Body, nil
}

// ServiceTicket asks the KDC for a ticket to r.Service with tgt: an
// ordinary TGS request, an S4U2Self request when r.Impersonate is set, or
// an S4U2Proxy request when r.Evidence is set.
func (c *Conn) ServiceTicket(ctx context.Context, tgt *Credential, r *Request) (*Credential, error) {
	req, err := r.tgsReq(tgt)
	if err != nil {
		return nil, err
	}
	rep, err := c.RoundTrip(ctx, req.msg)
	if err != nil {
		return nil, err
	}
	kerr, err := asError(rep)
	if err != nil {
		return nil, err
	}
	if kerr != nil {
		return nil, kerr
	}
	kr, part, err := openReply(rep, krb5.MsgTGSRep, req.body, req.replyKey, req.usage)
	if err != nil {
		return nil, err
	}
	if err := checkNames(kr, part, req.body, r.Options.Has(krb5.OptCanonicalize), req.client); err != nil {
		return nil, err
	}
	if req.s4u != nil {
		// S4U2Self and S4U2Proxy replies name the user whatever
		// canonicalize says (MS-SFU §3.1.5.1.2, §3.1.5.2.4): a KDC that
		// ignored the S4U data would name the service instead.
		if !kr.CName.Equal(req.client.Name) || !kr.CRealm.Equal(req.client.Realm) {
			return nil, fmt.Errorf("%w: %s reply is for client %s, asked for %s", ErrBadReply, req.s4u.kind,
				krb5.Principal{Name: kr.CName, Realm: kr.CRealm}, req.client)
		}
		if err := req.s4u.checkReply(kr.PAData, part.EncPAData); err != nil {
			return nil, err
		}
	}
	return credential(kr, part)
}

// tgsRequest is an encoded TGS-REQ and what checking its reply takes.
type tgsRequest struct {
	msg      []byte
	body     *wire.KDCReqBody
	replyKey *crypto.Key
	usage    krb5.KeyUsage
	client   krb5.Principal // the client the reply must name
	s4u      *s4uState      // nil unless S4U2Self or S4U2Proxy
}

func (r *Request) tgsReq(tgt *Credential) (*tgsRequest, error) {
	if r.Impersonate != nil && r.Evidence != nil {
		return nil, errors.New("client: a request is S4U2Self (Impersonate) or S4U2Proxy (Evidence), not both")
	}
	now := r.now()
	realm := r.Realm
	if realm == "" {
		realm = tgt.Server.Realm
	}
	sname := r.Service
	client := tgt.Client
	switch {
	case r.Impersonate != nil:
		if sname.IsZero() {
			sname = tgt.Client.Name // S4U2Self asks for a ticket to the service itself
		}
	case r.Evidence != nil:
		if sname.IsZero() {
			return nil, errors.New("client: S4U2Proxy needs the target service (Request.Service)")
		}
	}
	b, err := r.body(now, realm, sname)
	if err != nil {
		return nil, err
	}
	sk := tgt.SessionKey
	var pa []wire.PAData
	var s4u *s4uState
	switch {
	case r.Impersonate != nil:
		user := *r.Impersonate
		if user.Realm == "" {
			user.Realm = tgt.Client.Realm
		}
		if s4u, pa, err = r.s4uSelf(sk, user, b.Nonce); err != nil {
			return nil, err
		}
		client = user
	case r.Evidence != nil:
		b.Options |= krb5.OptCNameInAddlTkt
		b.AdditionalTickets = []wire.Ticket{r.Evidence.Ticket}
		s4u = &s4uState{kind: "S4U2Proxy"}
		client = r.Evidence.Client
	}
	if opts, ok, err := r.pacOptions(); err != nil {
		return nil, err
	} else if ok {
		pa = append(pa, opts)
	}
	raw, err := b.Marshal()
	if err != nil {
		return nil, err
	}
	auth := wire.Authenticator{
		CRealm: tgt.Client.Realm,
		CName:  tgt.Client.Name,
		Cusec:  int32(now.Nanosecond() / 1000),
		CTime:  now.UTC().Truncate(time.Second),
	}
	if !r.NoChecksum {
		sum, err := sk.MakeChecksum(sk.ChecksumType(), krb5.UsageTGSReqAuthCksum, raw)
		if err != nil {
			return nil, err
		}
		auth.Cksum = &wire.Checksum{Type: sk.ChecksumType(), Sum: sum}
	}
	replyKey, usage := sk, krb5.UsageTGSRepEncPartSession
	if r.Subkey {
		sub, err := crypto.RandomKey(sk.EncType(), r.rand())
		if err != nil {
			return nil, err
		}
		auth.SubKey = &wire.EncryptionKey{Type: sub.EncType(), Value: sub.Material()}
		replyKey, usage = sub, krb5.UsageTGSRepEncPartSubkey
	}
	plain, err := auth.Marshal()
	if err != nil {
		return nil, err
	}
	ct, err := sk.Encrypt(r.rand(), krb5.UsageTGSReqAuthenticator, plain)
	if err != nil {
		return nil, err
	}
	ap, err := (&wire.APReq{Ticket: tgt.Ticket, Authenticator: wire.EncryptedData{EType: sk.EncType(), Cipher: ct}}).Marshal()
	if err != nil {
		return nil, err
	}
	req := wire.KDCReq{MsgType: krb5.MsgTGSReq, PAData: append([]wire.PAData{{Type: krb5.PATGSReq, Value: ap}}, pa...), Body: b, RawBody: raw}
	msg, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	return &tgsRequest{msg: msg, body: &req.Body, replyKey: replyKey, usage: usage, client: client, s4u: s4u}, nil
}

// asError returns the KRB-ERROR in rep, nil if rep is not one.
func asError(rep []byte) (*Error, error) {
	mt, ok := wire.MsgTypeOf(rep)
	if !ok {
		return nil, fmt.Errorf("%w: not a Kerberos message", ErrBadReply)
	}
	if mt != krb5.MsgKRBError {
		return nil, nil
	}
	e, err := wire.ParseKRBError(rep)
	if err != nil {
		return nil, fmt.Errorf("%w: KRB-ERROR: %v", ErrBadReply, err)
	}
	ke := &Error{Code: e.ErrorCode, Msg: e}
	// e-data is METHOD-DATA for some errors and KERB-ERROR-DATA for those
	// that carry an NTSTATUS; anything else is left alone.
	if len(e.EData) > 0 {
		if st, ext, err := wire.ParseNTStatusEData(e.EData); err == nil && ext {
			ke.Status, ke.HasStatus = st, true
		}
	}
	return ke, nil
}

// readReply decodes and checks an AS-REP (RFC 4120 §3.1.5).
func readReply(rep []byte, want krb5.MsgType, body *wire.KDCReqBody, key *crypto.Key, usage krb5.KeyUsage, canonicalize bool, client krb5.Principal) (*Credential, error) {
	r, part, err := openReply(rep, want, body, key, usage)
	if err != nil {
		return nil, err
	}
	if err := checkNames(r, part, body, canonicalize, client); err != nil {
		return nil, err
	}
	return credential(r, part)
}

// openReply decodes an AS-REP or TGS-REP, decrypts its encrypted part
// with key and checks the nonce (RFC 4120 §3.1.5, §3.3.4).
func openReply(rep []byte, want krb5.MsgType, body *wire.KDCReqBody, key *crypto.Key, usage krb5.KeyUsage) (*wire.KDCRep, *wire.EncKDCRepPart, error) {
	r, err := wire.ParseKDCRep(rep)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if r.MsgType != want {
		return nil, nil, fmt.Errorf("%w: got message type %d, want %d", ErrBadReply, r.MsgType, want)
	}
	if r.EncPart.EType != key.EncType() {
		return nil, nil, fmt.Errorf("%w: reply sealed with %s, expected %s", ErrBadReply, r.EncPart.EType, key.EncType())
	}
	plain, err := key.Decrypt(usage, r.EncPart.Cipher)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the reply does not decrypt with the expected key", ErrBadReply)
	}
	part, _, err := wire.ParseEncKDCRepPart(plain)
	if err != nil {
		clear(plain)
		return nil, nil, fmt.Errorf("%w: encrypted part: %v", ErrBadReply, err)
	}
	// The plaintext holds the session key: what the caller keeps is
	// copied out of it, and it is zeroed, so that no copy of the key
	// stays in memory once the caller zeroes its Credential.
	part.Key.Value = bytes.Clone(part.Key.Value)
	for i := range part.EncPAData {
		part.EncPAData[i].Value = bytes.Clone(part.EncPAData[i].Value)
	}
	for i := range part.CAddr {
		part.CAddr[i].Address = bytes.Clone(part.CAddr[i].Address)
	}
	clear(plain)
	if part.Nonce != body.Nonce {
		return nil, nil, fmt.Errorf("%w: nonce mismatch", ErrBadReply)
	}
	return r, part, nil
}

// checkNames checks that the reply names the client and service asked
// for, unless the request asked for canonicalization (RFC 6806 §6).
func checkNames(r *wire.KDCRep, part *wire.EncKDCRepPart, body *wire.KDCReqBody, canonicalize bool, client krb5.Principal) error {
	if canonicalize {
		return nil
	}
	if !r.CName.Equal(client.Name) || !r.CRealm.Equal(client.Realm) {
		return fmt.Errorf("%w: reply is for client %s, asked as %s", ErrBadReply, krb5.Principal{Name: r.CName, Realm: r.CRealm}, client)
	}
	if body.SName != nil && !part.SName.Equal(*body.SName) {
		return fmt.Errorf("%w: reply is for service %s, asked for %s", ErrBadReply, part.SName, *body.SName)
	}
	return nil
}

func credential(r *wire.KDCRep, part *wire.EncKDCRepPart) (*Credential, error) {
	sk, err := crypto.NewKey(part.Key.Type, part.Key.Value)
	clear(part.Key.Value) // NewKey copied it
	if err != nil {
		return nil, fmt.Errorf("%w: session key: %v", ErrBadReply, err)
	}
	return &Credential{
		Client:     krb5.Principal{Name: r.CName, Realm: r.CRealm},
		Server:     krb5.Principal{Name: part.SName, Realm: part.SRealm},
		Ticket:     r.Ticket,
		SessionKey: sk,
		Flags:      part.Flags,
		AuthTime:   part.AuthTime,
		StartTime:  part.StartTime,
		EndTime:    part.EndTime,
		RenewTill:  part.RenewTill,
		EncPAData:  part.EncPAData,
	}, nil
}
