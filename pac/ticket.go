package pac

import (
	"fmt"
	"slices"

	"hop/krb5"
	"hop/krb5/wire"
)

// FromAuthorizationData finds the PAC in a ticket's authorization data: the
// AD-WIN2K-PAC element inside an AD-IF-RELEVANT element ([MS-PAC] §2.1).
// It reports false when there is none. More than one PAC, or an AD-WIN2K-PAC
// outside AD-IF-RELEVANT, is an error wrapping ErrMalformed: a KDC must not
// let two parties read two different PACs in one ticket.
func FromAuthorizationData(ad wire.AuthorizationData) ([]byte, bool, error) {
	var found []byte
	n := 0
	for _, e := range ad {
		switch e.Type {
		case krb5.ADWin2KPAC:
			return nil, false, malformed("AD-WIN2K-PAC outside AD-IF-RELEVANT")
		case krb5.ADIfRelevant:
			inner, err := wire.ParseAuthorizationData(e.Data)
			if err != nil {
				return nil, false, fmt.Errorf("%w: AD-IF-RELEVANT: %v", ErrMalformed, err)
			}
			for _, ie := range inner {
				if ie.Type == krb5.ADWin2KPAC {
					found = ie.Data
					n++
				}
			}
		}
	}
	if n > 1 {
		return nil, false, malformed("%d PACs in the authorization data", n)
	}
	return found, n == 1, nil
}

// AuthorizationData wraps an encoded PAC as a ticket carries it: one
// AD-IF-RELEVANT element holding one AD-WIN2K-PAC element ([MS-PAC] §2.1).
func AuthorizationData(pacBytes []byte) (wire.AuthorizationData, error) {
	inner, err := wire.AuthorizationData{{Type: krb5.ADWin2KPAC, Data: pacBytes}}.Marshal()
	if err != nil {
		return nil, fmt.Errorf("pac: encode AD-WIN2K-PAC: %w", err)
	}
	return wire.AuthorizationData{{Type: krb5.ADIfRelevant, Data: inner}}, nil
}

// TicketSigningInput returns the bytes the ticket signature covers
// ([MS-PAC] §2.8.3): the DER encoding of etp with the ad-data of its
// AD-WIN2K-PAC element replaced by the single byte 0, the rest of the
// AD-IF-RELEVANT element holding it unchanged. When etp has no PAC yet, an
// AD-IF-RELEVANT element holding that placeholder PAC is put first in the
// authorization data, where the KDC puts the signed PAC afterwards (as MIT
// krb5's krb5_kdc_sign_ticket does): the KDC calls TicketSigningInput on the
// EncTicketPart without its PAC, signs, and prepends
// AuthorizationData(signed).
//
// etp itself is not modified.
func TicketSigningInput(etp *wire.EncTicketPart) ([]byte, error) {
	placeholder := []byte{0}
	c := *etp
	c.AuthorizationData = slices.Clone(etp.AuthorizationData)
	replaced := false
	for i, e := range c.AuthorizationData {
		if e.Type == krb5.ADWin2KPAC {
			return nil, malformed("AD-WIN2K-PAC outside AD-IF-RELEVANT")
		}
		if e.Type != krb5.ADIfRelevant {
			continue
		}
		inner, err := wire.ParseAuthorizationData(e.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: AD-IF-RELEVANT: %v", ErrMalformed, err)
		}
		has := false
		for j, ie := range inner {
			if ie.Type == krb5.ADWin2KPAC {
				if replaced || has {
					return nil, malformed("more than one PAC in the authorization data")
				}
				inner = slices.Clone(inner)
				inner[j].Data = placeholder
				has = true
			}
		}
		if !has {
			continue
		}
		data, err := inner.Marshal()
		if err != nil {
			return nil, fmt.Errorf("pac: encode AD-IF-RELEVANT: %w", err)
		}
		c.AuthorizationData[i] = wire.ADEntry{Type: krb5.ADIfRelevant, Data: data}
		replaced = true
	}
	if !replaced {
		ad, err := AuthorizationData(placeholder)
		if err != nil {
			return nil, err
		}
		c.AuthorizationData = append(ad, c.AuthorizationData...)
	}
	b, err := c.Marshal()
	if err != nil {
		return nil, fmt.Errorf("pac: encode EncTicketPart: %w", err)
	}
	return b, nil
}
