package gssapi

import (
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/service"
)

// Acceptor accepts Kerberos V5 security contexts (GSS_Accept_sec_context,
// RFC 2743 §2.2.2) for the services of Service.
type Acceptor struct {
	// Service checks the AP-REQ (keys, clock, replay, PAC).
	Service *service.Acceptor
	// InsecureAcceptUnbound accepts initiators that send no channel
	// bindings when Accept is given some (MIT krb5's default). Without it
	// their bindings must match.
	InsecureAcceptUnbound bool
	// Rand draws the acceptor subkey and sequence number (default
	// crypto/rand).
	Rand io.Reader
}

// ErrBindings is wrapped by the refusal of an initiator whose channel
// bindings do not match (RFC 2743 GSS_S_BAD_BINDINGS).
var ErrBindings = errors.New("gssapi: channel bindings do not match")

// Accept accepts the initiator's first token: a framed AP-REQ (TOK_ID 01
// 00 under either Kerberos OID) or a bare one. cb are the channel
// bindings to check, nil for none. It returns the established context and
// the token to send back: the AP-REP when the initiator asked for mutual
// authentication (framed like the request), else nil.
//
// A refusal by the AP-REQ checks is a *service.Error (errors.As); its code
// can be sent back with ErrorToken.
func (a *Acceptor) Accept(token []byte, cb *ChannelBindings) (*Context, []byte, error) {
	if a.Service == nil {
		return nil, nil, errors.New("gssapi: Acceptor without a service.Acceptor")
	}
	var (
		mech  asn1.ObjectIdentifier
		apReq []byte
		bare  bool
	)
	if len(token) > 0 && token[0] == 0x6e { // [APPLICATION 14]: a bare AP-REQ
		mech, apReq, bare = OIDKerberos, token, true
	} else {
		oid, tokID, msg, err := parseKrbToken(token)
		if err != nil {
			return nil, nil, err
		}
		if tokID != tokAPReq {
			return nil, nil, defective("initial token with TOK_ID %04x, not 0100 (AP-REQ)", tokID)
		}
		mech, apReq = oid, msg
	}
	x, err := a.Service.Accept(apReq)
	if err != nil {
		return nil, nil, err
	}
	flags, deleg, err := a.checksum(x, cb)
	if err != nil {
		return nil, nil, err
	}
	if flags&FlagDCEStyle != 0 {
		return nil, nil, fmt.Errorf("gssapi: the initiator asked for DCE-style (three-leg) authentication, which hop does not offer")
	}
	ikey := x.Key()
	if !cfxKey(ikey.EncType()) {
		return nil, nil, unsupportedKey("the initiator's key", ikey.EncType())
	}
	var initSeq uint32
	if x.Authenticator.SeqNumber != nil {
		initSeq = *x.Authenticator.SeqNumber
	}
	c := &Context{
		initiator: false, mech: mech, client: x.Client, server: x.Server,
		expiry: x.Ticket.EndTime, accepted: x, deleg: deleg, rand: randReader(a.Rand),
		established: true, key: ikey,
		recv: newSeqState(uint64(initSeq), flags),
	}
	var out []byte
	if flags&FlagMutual != 0 || x.Mutual {
		flags |= FlagMutual
		sub, err := crypto.RandomKey(ikey.EncType(), c.rand)
		if err != nil {
			return nil, nil, err
		}
		seq, err := randomSeq(c.rand)
		if err != nil {
			return nil, nil, err
		}
		rep, err := x.APRep(sub, &seq)
		if err != nil {
			return nil, nil, err
		}
		c.acceptorKey, c.sendSeq = sub, uint64(seq)
		if bare {
			out = rep
		} else if out, err = krbToken(mech, tokAPRep, rep); err != nil {
			return nil, nil, err
		}
	} else {
		c.sendSeq = uint64(initSeq)
	}
	c.flags = flags | FlagTrans | FlagProtReady
	return c, out, nil
}

// checksum reads the authenticator checksum as MIT krb5's process_checksum
// does and returns the context flags and the delegated credential.
func (a *Acceptor) checksum(x *service.Accepted, cb *ChannelBindings) (Flags, *DelegatedCredential, error) {
	ck := x.Authenticator.Cksum
	switch {
	case ck == nil:
		// MS-KILE: no checksum means no flags; bindings cannot be checked.
		if cb != nil && !a.InsecureAcceptUnbound {
			return 0, nil, fmt.Errorf("%w: the authenticator has no checksum to carry them", ErrBindings)
		}
		return 0, nil, nil
	case ck.Type != krb5.CksumGSSAPI:
		// Samba: an ordinary checksum over nothing, which must verify so that
		// the authenticator is not one made for other data.
		if err := x.SessionKey.VerifyChecksum(ck.Type, krb5.UsageAPReqAuthCksum, nil, ck.Sum); err != nil {
			return 0, nil, fmt.Errorf("%w: authenticator checksum: %v", ErrBadSig, err)
		}
		if cb != nil && !a.InsecureAcceptUnbound {
			return 0, nil, fmt.Errorf("%w: the authenticator's %v checksum cannot carry them", ErrBindings, ck.Type)
		}
		f := FlagReplay | FlagSequence
		if x.Mutual {
			f |= FlagMutual
		}
		return f, nil, nil
	}
	c, err := ParseAuthenticatorChecksum(ck.Sum)
	if err != nil {
		return 0, nil, err
	}
	if cb != nil {
		want := cb.Hash()
		zero := c.Bindings == [16]byte{}
		if subtle.ConstantTimeCompare(want[:], c.Bindings[:]) != 1 && !(zero && a.InsecureAcceptUnbound) {
			if zero {
				return 0, nil, fmt.Errorf("%w: the initiator sent none", ErrBindings)
			}
			return 0, nil, ErrBindings
		}
	}
	flags := c.Flags & initiatorFlags
	var deleg *DelegatedCredential
	if c.Delegation != nil {
		if deleg, err = readKRBCred(c.Delegation, x.SessionKey, x.Subkey, x.Client); err != nil {
			return 0, nil, fmt.Errorf("gssapi: delegated credential: %w", err)
		}
		flags |= FlagDeleg
	}
	return flags, deleg, nil
}

// ErrorToken frames the KRB-ERROR answering err (TOK_ID 03 00, RFC 4121
// §4.1), for protocols that pass it back to the initiator; server is the
// service's name. It carries the error code (see service.Code) and the
// service's time, nothing else.
func (a *Acceptor) ErrorToken(err error, server krb5.Principal) ([]byte, error) {
	msg := a.Service.ErrorReply(err, server)
	if msg == nil {
		return nil, fmt.Errorf("gssapi: cannot encode a KRB-ERROR for %s", server)
	}
	return krbToken(OIDKerberos, tokKRBError, msg)
}
