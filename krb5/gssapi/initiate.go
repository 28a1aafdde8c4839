package gssapi

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/wire"
)

// InitOptions are the options of InitSecContext.
type InitOptions struct {
	// Flags asks for context services: FlagMutual, FlagReplay,
	// FlagSequence, FlagDeleg (with Delegate). FlagConf and FlagInteg are
	// always added, as MIT krb5 adds them.
	Flags Flags
	// Bindings are the channel bindings (RFC 4121 §4.1.1.2), nil for none.
	Bindings *ChannelBindings
	// Delegate is the credential to forward when Flags has FlagDeleg:
	// a forwarded TGT (KDC option forwarded), sent as a KRB-CRED sealed in
	// the service ticket's session key.
	Delegate *client.Credential
	// Mech is the OID in the token framing (default OIDKerberos).
	Mech asn1.ObjectIdentifier
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// InitSecContext starts a context as the initiator (GSS_Init_sec_context,
// RFC 2743 §2.2.1) with cred, a service ticket: it returns the context and
// the token to send, a framed AP-REQ whose authenticator has a fresh
// subkey, a random sequence number and the 0x8003 checksum. With FlagMutual
// the context is established once Continue has checked the acceptor's
// AP-REP; without, at once.
func InitSecContext(cred *client.Credential, o *InitOptions) (*Context, []byte, error) {
	if o == nil {
		o = &InitOptions{}
	}
	if cred == nil || cred.SessionKey == nil {
		return nil, nil, errors.New("gssapi: InitSecContext needs a service ticket and its session key")
	}
	rnd := randReader(o.Rand)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	mech := o.Mech
	if mech == nil {
		mech = OIDKerberos
	}
	flags := o.Flags&(FlagDeleg|FlagMutual|FlagReplay|FlagSequence|FlagIdentify|FlagExtendedError) | FlagConf | FlagInteg
	sk := cred.SessionKey
	subType := sk.EncType()
	if !cfxKey(subType) {
		subType = krb5.AES256CTSHMACSHA196
	}
	sub, err := crypto.RandomKey(subType, rnd)
	if err != nil {
		return nil, nil, err
	}
	seq, err := randomSeq(rnd)
	if err != nil {
		return nil, nil, err
	}
	ck := AuthenticatorChecksum{Bindings: o.Bindings.Hash(), Flags: flags}
	if flags&FlagDeleg != 0 {
		if o.Delegate == nil {
			return nil, nil, errors.New("gssapi: FlagDeleg without a credential to delegate")
		}
		if ck.Delegation, err = makeKRBCred([]*client.Credential{o.Delegate}, sk, rnd); err != nil {
			return nil, nil, fmt.Errorf("gssapi: delegated credential: %w", err)
		}
	}
	ckv, err := ck.Marshal()
	if err != nil {
		return nil, nil, err
	}
	t := now()
	auth := wire.Authenticator{
		CRealm: cred.Client.Realm, CName: cred.Client.Name,
		Cksum: &wire.Checksum{Type: krb5.CksumGSSAPI, Sum: ckv},
		Cusec: int32(t.Nanosecond() / 1000), CTime: t.UTC().Truncate(time.Second),
		SubKey:    &wire.EncryptionKey{Type: sub.EncType(), Value: sub.Material()},
		SeqNumber: &seq,
	}
	plain, err := auth.Marshal()
	clear(auth.SubKey.Value)
	if err != nil {
		return nil, nil, err
	}
	ct, err := sk.Encrypt(rnd, krb5.UsageAPReqAuthenticator, plain)
	clear(plain)
	if err != nil {
		return nil, nil, err
	}
	var apOpts krb5.Flags
	if flags&FlagMutual != 0 {
		apOpts |= krb5.APMutualRequired
	}
	req, err := (&wire.APReq{Options: apOpts, Ticket: cred.Ticket,
		Authenticator: wire.EncryptedData{EType: sk.EncType(), Cipher: ct}}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	tok, err := krbToken(mech, tokAPReq, req)
	if err != nil {
		return nil, nil, err
	}
	c := &Context{
		initiator: true, mech: mech, client: cred.Client, server: cred.Server,
		expiry: cred.EndTime, rand: rnd,
		flags: flags, key: sub, sendSeq: uint64(seq),
		sessionKey: sk, ctime: auth.CTime, cusec: auth.Cusec,
	}
	if flags&FlagMutual == 0 {
		// MIT krb5: without an AP-REP both directions share the sequence.
		c.recv = newSeqState(uint64(seq), flags)
		c.established = true
		c.flags |= FlagTrans | FlagProtReady
	}
	return c, tok, nil
}

// ErrMutualFailed is wrapped by Continue's errors for an AP-REP that does
// not prove the acceptor knows the session key (KRB_AP_ERR_MUT_FAIL).
var ErrMutualFailed = errors.New("gssapi: mutual authentication failed")

// KRBError is the KRB-ERROR an acceptor answered with (TOK_ID 03 00).
type KRBError struct {
	Msg *wire.KRBError
}

func (e *KRBError) Error() string {
	return "gssapi: the acceptor refused: " + e.Msg.ErrorCode.String()
}

// Unwrap returns the error code.
func (e *KRBError) Unwrap() error { return e.Msg.ErrorCode }

// Continue processes the acceptor's reply on an initiator context that
// asked for mutual authentication: a framed AP-REP (or a bare one), whose
// ctime and cusec must be this authenticator's (RFC 4120 §3.2.5). It takes
// the acceptor's subkey and sequence number. A KRB-ERROR token gives a
// *KRBError.
func (c *Context) Continue(token []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.initiator || c.established || c.sessionKey == nil {
		return errors.New("gssapi: Continue on a context that expects no token")
	}
	rep := token
	if len(token) == 0 || token[0] != 0x6f { // [APPLICATION 15]: a bare AP-REP
		_, tokID, msg, err := parseKrbToken(token)
		if err != nil {
			return err
		}
		switch tokID {
		case tokAPRep:
			rep = msg
		case tokKRBError:
			e, err := wire.ParseKRBError(msg)
			if err != nil {
				return defective("KRB-ERROR token: %v", err)
			}
			return &KRBError{Msg: e}
		default:
			return defective("reply token with TOK_ID %04x, not 0200 (AP-REP)", tokID)
		}
	}
	r, err := wire.ParseAPRep(rep)
	if err != nil {
		return defective("%v", err)
	}
	if r.EncPart.EType != c.sessionKey.EncType() {
		return fmt.Errorf("%w: AP-REP sealed with %v, the session key is %v: %w", ErrMutualFailed, r.EncPart.EType, c.sessionKey.EncType(), krb5.KRBAPErrMutFail)
	}
	plain, err := c.sessionKey.Decrypt(krb5.UsageAPRepEncPart, r.EncPart.Cipher)
	if err != nil {
		return fmt.Errorf("%w: the AP-REP does not decrypt with the session key: %w", ErrMutualFailed, krb5.KRBAPErrMutFail)
	}
	part, err := wire.ParseEncAPRepPart(plain)
	if err != nil {
		return fmt.Errorf("%w: %v: %w", ErrMutualFailed, err, krb5.KRBAPErrMutFail)
	}
	if !part.CTime.Equal(c.ctime) || part.Cusec != c.cusec {
		return fmt.Errorf("%w: the AP-REP answers another authenticator: %w", ErrMutualFailed, krb5.KRBAPErrMutFail)
	}
	if part.SubKey != nil {
		if !cfxKey(part.SubKey.Type) {
			return unsupportedKey("the acceptor's subkey", part.SubKey.Type)
		}
		if c.acceptorKey, err = crypto.NewKey(part.SubKey.Type, part.SubKey.Value); err != nil {
			return fmt.Errorf("gssapi: acceptor subkey: %w", err)
		}
	}
	var seq uint64
	if part.SeqNumber != nil {
		seq = uint64(*part.SeqNumber)
	}
	c.recv = newSeqState(seq, c.flags)
	c.sessionKey = nil
	c.established = true
	c.flags |= FlagTrans | FlagProtReady
	return nil
}
