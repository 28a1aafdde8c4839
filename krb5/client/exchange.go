package client

import (
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
}

func (e *Error) Error() string {
	if e.Msg != nil && e.Msg.EText != "" {
		return "client: KDC refused: " + e.Code.String() + ": " + e.Msg.EText
	}
	return "client: KDC refused: " + e.Code.String()
}

func (e *Error) Unwrap() error { return e.Code }

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
	for _, e := range info {
		if !crypto.Supported(e.EType) {
			continue
		}
		salt := crypto.DefaultSalt(p)
		if e.Salt != nil {
			salt = *e.Salt
		}
		return crypto.StringToKey(e.EType, password, salt, e.S2KParams)
	}
	return nil, fmt.Errorf("client: the KDC offers no supported key type for %s", p)
}

// Login gets a ticket (a TGT by default) for r.Client with its password.
func (c *Conn) Login(ctx context.Context, r *Request, password string) (*Credential, *crypto.Key, error) {
	info, err := c.PreauthInfo(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	key, err := KeyFromPassword(r.Client, password, info)
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
	b, err := req.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return b, &req.Body, nil
}

// ServiceTicket asks the KDC for a ticket to r.Service with tgt.
func (c *Conn) ServiceTicket(ctx context.Context, tgt *Credential, r *Request) (*Credential, error) {
	msg, body, replyKey, usage, err := r.tgsReq(tgt)
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
	return readReply(rep, krb5.MsgTGSRep, body, replyKey, usage, r.Options.Has(krb5.OptCanonicalize), tgt.Client)
}

func (r *Request) tgsReq(tgt *Credential) (msg []byte, body *wire.KDCReqBody, replyKey *crypto.Key, usage krb5.KeyUsage, err error) {
	now := r.now()
	realm := r.Realm
	if realm == "" {
		realm = tgt.Server.Realm
	}
	b, err := r.body(now, realm, r.Service)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	raw, err := b.Marshal()
	if err != nil {
		return nil, nil, nil, 0, err
	}
	auth := wire.Authenticator{
		CRealm: tgt.Client.Realm,
		CName:  tgt.Client.Name,
		Cusec:  int32(now.Nanosecond() / 1000),
		CTime:  now.UTC().Truncate(time.Second),
	}
	sk := tgt.SessionKey
	if !r.NoChecksum {
		sum, err := sk.MakeChecksum(sk.ChecksumType(), krb5.UsageTGSReqAuthCksum, raw)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		auth.Cksum = &wire.Checksum{Type: sk.ChecksumType(), Sum: sum}
	}
	replyKey, usage = sk, krb5.UsageTGSRepEncPartSession
	if r.Subkey {
		sub, err := crypto.RandomKey(sk.EncType(), r.rand())
		if err != nil {
			return nil, nil, nil, 0, err
		}
		auth.SubKey = &wire.EncryptionKey{Type: sub.EncType(), Value: sub.Material()}
		replyKey, usage = sub, krb5.UsageTGSRepEncPartSubkey
	}
	plain, err := auth.Marshal()
	if err != nil {
		return nil, nil, nil, 0, err
	}
	ct, err := sk.Encrypt(r.rand(), krb5.UsageTGSReqAuthenticator, plain)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	ap, err := (&wire.APReq{Ticket: tgt.Ticket, Authenticator: wire.EncryptedData{EType: sk.EncType(), Cipher: ct}}).Marshal()
	if err != nil {
		return nil, nil, nil, 0, err
	}
	req := wire.KDCReq{MsgType: krb5.MsgTGSReq, PAData: []wire.PAData{{Type: krb5.PATGSReq, Value: ap}}, Body: b, RawBody: raw}
	msg, err = req.Marshal()
	return msg, &req.Body, replyKey, usage, err
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
	return &Error{Code: e.ErrorCode, Msg: e}, nil
}

// readReply decodes and checks an AS-REP or TGS-REP (RFC 4120 §3.1.5, §3.3.4).
func readReply(rep []byte, want krb5.MsgType, body *wire.KDCReqBody, key *crypto.Key, usage krb5.KeyUsage, canonicalize bool, client krb5.Principal) (*Credential, error) {
	r, err := wire.ParseKDCRep(rep)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if r.MsgType != want {
		return nil, fmt.Errorf("%w: got message type %d, want %d", ErrBadReply, r.MsgType, want)
	}
	if r.EncPart.EType != key.EncType() {
		return nil, fmt.Errorf("%w: reply sealed with %s, expected %s", ErrBadReply, r.EncPart.EType, key.EncType())
	}
	plain, err := key.Decrypt(usage, r.EncPart.Cipher)
	if err != nil {
		return nil, fmt.Errorf("%w: the reply does not decrypt with the expected key", ErrBadReply)
	}
	part, _, err := wire.ParseEncKDCRepPart(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypted part: %v", ErrBadReply, err)
	}
	if part.Nonce != body.Nonce {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrBadReply)
	}
	if !canonicalize {
		if !r.CName.Equal(client.Name) || !r.CRealm.Equal(client.Realm) {
			return nil, fmt.Errorf("%w: reply is for client %s, asked as %s", ErrBadReply, krb5.Principal{Name: r.CName, Realm: r.CRealm}, client)
		}
		if body.SName != nil && !part.SName.Equal(*body.SName) {
			return nil, fmt.Errorf("%w: reply is for service %s, asked for %s", ErrBadReply, part.SName, *body.SName)
		}
	}
	sk, err := crypto.NewKey(part.Key.Type, part.Key.Value)
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
	}, nil
}
