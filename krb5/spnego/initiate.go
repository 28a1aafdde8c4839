package spnego

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"hop/krb5/client"
	"hop/krb5/gssapi"
)

// Initiation is one SPNEGO exchange on the initiator's side: it offers
// Kerberos V5 alone, with an optimistic AP-REQ.
type Initiation struct {
	ctx         *gssapi.Context
	rawMechs    []byte
	micRequired bool
	micSent     bool
	micReceived bool
	answered    bool
	done        bool
	failed      bool
}

// Initiate starts a negotiation with cred, a service ticket, and returns
// the NegTokenInit to send. o are the Kerberos options (gssapi.FlagMutual
// is always added: SPNEGO's acceptor proves itself with the AP-REP). mech
// is the Kerberos OID to offer (nil: gssapi.OIDKerberos).
func Initiate(cred *client.Credential, o *gssapi.InitOptions, mech asn1.ObjectIdentifier) (*Initiation, []byte, error) {
	if mech == nil {
		mech = gssapi.OIDKerberos
	}
	if !gssapi.IsKerberos(mech) {
		return nil, nil, fmt.Errorf("spnego: %v is not a Kerberos OID", mech)
	}
	opts := gssapi.InitOptions{}
	if o != nil {
		opts = *o
	}
	opts.Flags |= gssapi.FlagMutual
	ctx, tok, err := gssapi.InitSecContext(cred, &opts)
	if err != nil {
		return nil, nil, err
	}
	init := &NegTokenInit{MechTypes: []asn1.ObjectIdentifier{mech}, MechToken: tok}
	out, err := init.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return &Initiation{ctx: ctx, rawMechs: init.RawMechTypes}, out, nil
}

// Done reports whether the negotiation completed and the acceptor proved
// its identity.
func (n *Initiation) Done() bool { return n.done }

// Context is the Kerberos context (established once Done).
func (n *Initiation) Context() *gssapi.Context { return n.ctx }

// Step processes the acceptor's NegTokenResp and returns the token to
// send next (nil: none). The acceptor must select Kerberos and answer the
// AP-REQ with its AP-REP; a mechListMIC it sends is verified and answered
// with one (RFC 4178 §5), as is negState request-mic.
func (n *Initiation) Step(token []byte) (out []byte, err error) {
	if n.done || n.failed {
		return nil, errors.New("spnego: Step after the negotiation ended")
	}
	defer func() {
		if err != nil {
			n.failed = true
		}
	}()
	r, err := ParseNegTokenResp(token)
	if err != nil {
		return nil, err
	}
	if r.NegState == Reject {
		return nil, ErrRejected
	}
	first := !n.answered
	n.answered = true
	if first {
		if r.SupportedMech != nil && !gssapi.IsKerberos(r.SupportedMech) {
			return nil, fmt.Errorf("spnego: the acceptor chose %v, which was not offered", r.SupportedMech)
		}
		if r.NegState == RequestMIC {
			n.micRequired = true
		}
	} else if r.SupportedMech != nil {
		return nil, defective("supportedMech in a later NegTokenResp")
	}
	if !n.ctx.Established() {
		if r.ResponseToken == nil {
			return nil, defective("no AP-REP from the acceptor")
		}
		if err := n.ctx.Continue(r.ResponseToken); err != nil {
			return nil, err
		}
	} else if r.ResponseToken != nil {
		return nil, defective("a mechanism token after the context was established")
	}
	if r.MechListMIC != nil {
		if n.micReceived {
			return nil, fmt.Errorf("%w: a second mechListMIC", ErrBadMIC)
		}
		if err := n.ctx.VerifyMIC(n.rawMechs, r.MechListMIC); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadMIC, err)
		}
		n.micReceived, n.micRequired = true, true
	}
	resp := &NegTokenResp{NegState: NoState}
	if n.micRequired && !n.micSent {
		m, err := n.ctx.MakeMIC(n.rawMechs)
		if err != nil {
			return nil, err
		}
		resp.MechListMIC, n.micSent = m, true
	}
	switch {
	case n.micRequired && !n.micReceived:
		// Our MIC goes out; the acceptor's must come back.
		if r.NegState == AcceptCompleted {
			return nil, fmt.Errorf("%w: the acceptor completed without its mechListMIC", ErrBadMIC)
		}
	case !n.micRequired && r.NegState != AcceptCompleted:
		return nil, fmt.Errorf("spnego: the acceptor answered %v, but the exchange is over", r.NegState)
	default:
		n.done = true
	}
	if resp.MechListMIC == nil {
		return nil, nil
	}
	return resp.Marshal()
}
