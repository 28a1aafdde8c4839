package spnego

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"hop/krb5/gssapi"
)

// Acceptor negotiates the Kerberos V5 mechanism with SPNEGO initiators
// (RFC 4178) and takes bare Kerberos tokens as well.
type Acceptor struct {
	GSS *gssapi.Acceptor
}

var (
	// ErrNoCommonMech is wrapped by the refusal of an initiator that does
	// not offer Kerberos V5.
	ErrNoCommonMech = errors.New("spnego: the initiator offers no mechanism hop accepts (only Kerberos V5)")
	// ErrBadMIC is wrapped by the refusal of a mechListMIC that is missing
	// when required, or does not verify (RFC 4178 §5).
	ErrBadMIC = errors.New("spnego: mechListMIC missing or wrong")
	// ErrRejected is wrapped by the error of an initiator whose acceptor
	// answered negState reject.
	ErrRejected = errors.New("spnego: the acceptor rejected the negotiation")
)

// Negotiation is one SPNEGO exchange on the acceptor's side, for a
// connection-oriented protocol that carries its tokens in order.
type Negotiation struct {
	acc *Acceptor
	cb  *gssapi.ChannelBindings

	started     bool
	spnego      bool   // false: the initiator sent a bare Kerberos token
	rawMechs    []byte // the initiator's DER MechTypeList
	mech        asn1.ObjectIdentifier
	micRequired bool
	micSent     bool
	micReceived bool
	ctx         *gssapi.Context
	done        bool
	failed      bool
}

// Start begins a negotiation; cb are the channel bindings to check (nil:
// none).
func (a *Acceptor) Start(cb *gssapi.ChannelBindings) *Negotiation {
	return &Negotiation{acc: a, cb: cb}
}

// Done reports whether the negotiation completed: Context is then the
// established Kerberos context.
func (n *Negotiation) Done() bool { return n.done }

// Context is the Kerberos context, once the mechanism accepted the
// initiator (nil before).
func (n *Negotiation) Context() *gssapi.Context { return n.ctx }

// Step processes the initiator's next token and returns the token to send
// back (nil: none). After an error the negotiation is over; out may then
// hold a negState reject token to send.
//
// The first token is a NegTokenInit (RFC 4178 §4.2.1), or a bare Kerberos
// token (RFC 4121 framing, or an AP-REQ), which is accepted as is and
// answered with a bare Kerberos token. Kerberos is selected under the OID
// the initiator listed first among the two Kerberos OIDs. If it is the
// initiator's first mechanism, its optimistic token is accepted at once and
// no mechListMIC is needed (RFC 4178 §5: the preferred mechanism of both
// sides); a mechListMIC the initiator sends anyway is verified and
// answered with one. Otherwise the optimistic token is ignored, the answer
// is negState request-mic, and mechListMICs over the initiator's
// MechTypeList must be exchanged once the Kerberos context is established
// (RFC 4178 §5 (b) and (c)); the acceptor sends its MIC with the AP-REP and
// expects the initiator's with its AP-REQ (no mutual authentication) or in
// its next token.
func (n *Negotiation) Step(token []byte) (out []byte, err error) {
	if n.done || n.failed {
		return nil, errors.New("spnego: Step after the negotiation ended")
	}
	defer func() {
		if err != nil {
			n.failed = true
			if n.spnego && out == nil {
				out, _ = (&NegTokenResp{NegState: Reject}).Marshal()
			}
		}
	}()
	if !n.started {
		n.started = true
		return n.first(token)
	}
	return n.next(token)
}

func (n *Negotiation) first(token []byte) ([]byte, error) {
	if oid, _, err := gssapi.ParseInitialToken(token); err != nil || !oid.Equal(OIDSPNEGO) {
		// A bare Kerberos token (or garbage, which gssapi refuses).
		ctx, out, err := n.acc.GSS.Accept(token, n.cb)
		if err != nil {
			return nil, err
		}
		n.ctx, n.done = ctx, true
		return out, nil
	}
	n.spnego = true
	init, err := ParseNegTokenInit(token)
	if err != nil {
		return nil, err
	}
	n.rawMechs = append([]byte(nil), init.RawMechTypes...)
	idx := -1
	for i, m := range init.MechTypes {
		if gssapi.IsKerberos(m) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%w; it offers %v", ErrNoCommonMech, init.MechTypes)
	}
	n.mech = init.MechTypes[idx]
	resp := &NegTokenResp{NegState: AcceptIncomplete, SupportedMech: n.mech}
	if idx > 0 {
		// Not the initiator's preferred mechanism: its optimistic token, if
		// any, is for another one; a MIC exchange protects the choice.
		n.micRequired = true
		resp.NegState = RequestMIC
		return resp.Marshal()
	}
	if init.MechToken == nil {
		return resp.Marshal()
	}
	return n.mechStep(init.MechToken, init.MechListMIC, resp)
}

func (n *Negotiation) next(token []byte) ([]byte, error) {
	if !n.spnego {
		return nil, errors.New("spnego: a bare Kerberos context takes one token")
	}
	r, err := ParseNegTokenResp(token)
	if err != nil {
		return nil, err
	}
	if r.NegState == Reject {
		return nil, fmt.Errorf("%w (by the initiator)", ErrRejected)
	}
	if r.SupportedMech != nil {
		return nil, defective("supportedMech from the initiator")
	}
	if r.ResponseToken == nil && r.MechListMIC == nil {
		return nil, defective("NegTokenResp with neither a token nor a mechListMIC")
	}
	resp := &NegTokenResp{NegState: AcceptIncomplete}
	if n.ctx == nil {
		if r.ResponseToken == nil {
			return nil, defective("no Kerberos token from the initiator")
		}
		return n.mechStep(r.ResponseToken, r.MechListMIC, resp)
	}
	if r.ResponseToken != nil {
		return nil, defective("a mechanism token after the Kerberos context was established")
	}
	return n.micStep(r.MechListMIC, false, resp)
}

// mechStep gives the Kerberos token to the mechanism, then handles the
// MICs.
func (n *Negotiation) mechStep(tok, mic []byte, resp *NegTokenResp) ([]byte, error) {
	ctx, out, err := n.acc.GSS.Accept(tok, n.cb)
	if err != nil {
		return nil, err
	}
	n.ctx = ctx
	resp.ResponseToken = out
	return n.micStep(mic, out != nil, resp)
}

// micStep is MIT krb5's handle_mic: verify the initiator's mechListMIC if
// it sent one (which makes ours due), make ours when due, and decide
// whether the negotiation is complete.
func (n *Negotiation) micStep(mic []byte, sendingMechToken bool, resp *NegTokenResp) ([]byte, error) {
	switch {
	case mic != nil:
		if n.micReceived {
			return nil, fmt.Errorf("%w: a second mechListMIC", ErrBadMIC)
		}
		if err := n.ctx.VerifyMIC(n.rawMechs, mic); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadMIC, err)
		}
		n.micReceived, n.micRequired = true, true
	case n.micRequired && !sendingMechToken:
		// The initiator's last mechanism token must carry its MIC.
		return nil, fmt.Errorf("%w: the initiator did not send it", ErrBadMIC)
	}
	if n.micRequired && !n.micSent {
		m, err := n.ctx.MakeMIC(n.rawMechs)
		if err != nil {
			return nil, err
		}
		resp.MechListMIC, n.micSent = m, true
	}
	if !n.micRequired || n.micReceived {
		resp.NegState = AcceptCompleted
		n.done = true
		if resp.ResponseToken == nil && resp.MechListMIC == nil && resp.SupportedMech == nil {
			// Both MICs were exchanged and ours went out before: nothing
			// left to say (MIT krb5 sends no token either).
			return nil, nil
		}
	}
	return resp.Marshal()
}
