package pac

import (
	"errors"
	"fmt"

	"hop/krb5"
	"hop/krb5/crypto"
)

// signUsage is the key usage of every PAC signature: 17,
// KERB_NON_KERB_CKSUM_SALT ([MS-PAC] §2.8).
const signUsage = krb5.UsageKerbNonKerbCksumSalt

// SignOptions are the options of Sign and Verify.
type SignOptions struct {
	// Ticket is TicketSigningInput of the ticket the PAC goes in (or came
	// in), or nil for a ticket to the krbtgt service (a TGT or a referral),
	// which carries neither the ticket signature nor the full checksum.
	Ticket []byte
}

// Sign fills in the signatures of p and returns its signed encoding
// ([MS-PAC] §2.8.1-§2.8.5, in the order of a domain controller patched for
// CVE-2022-37967 and of MIT krb5):
//
//   - with o.Ticket, the ticket signature over o.Ticket and then the full
//     PAC checksum over the PAC with the server, KDC and full signature
//     values zeroed, both with kdcKey; without o.Ticket, p's ticket and full
//     signatures are removed, as Active Directory leaves them out of tickets
//     for krbtgt;
//   - the server signature with serverKey (the key the ticket is encrypted
//     in) over the PAC with the server and KDC signature values zeroed;
//   - the KDC signature with kdcKey (the krbtgt key) over the server
//     signature value.
//
// Each checksum is the mandatory keyed checksum of its key's encryption type,
// with key usage 17. Sign sets p's signature fields to the new signatures;
// any RODCIdentifier is dropped.
func (p *PAC) Sign(serverKey, kdcKey *crypto.Key, o SignOptions) ([]byte, error) {
	if serverKey == nil || kdcKey == nil {
		return nil, errors.New("pac: Sign needs both the server key and the KDC key")
	}
	zero := func(k *crypto.Key) (*Signature, error) {
		t := k.ChecksumType()
		n, ok := crypto.ChecksumSize(t)
		if !ok {
			return nil, fmt.Errorf("pac: no checksum for %v keys", k.EncType())
		}
		return &Signature{Type: t, Value: make([]byte, n)}, nil
	}
	var err error
	if p.ServerChecksum, err = zero(serverKey); err != nil {
		return nil, err
	}
	if p.KDCChecksum, err = zero(kdcKey); err != nil {
		return nil, err
	}
	p.TicketChecksum, p.FullChecksum = nil, nil
	if o.Ticket != nil {
		p.TicketChecksum, _ = zero(kdcKey)
		p.FullChecksum, _ = zero(kdcKey)
	}
	b, infos, err := p.encode()
	if err != nil {
		return nil, err
	}
	value := func(typ uint32) []byte {
		for _, ib := range infos {
			if ib.typ == typ {
				return b[ib.off+sigHeaderLen : ib.off+ib.size]
			}
		}
		panic("pac: signature buffer missing after encode")
	}
	sign := func(k *crypto.Key, typ uint32, s *Signature, data []byte) error {
		sum, err := k.MakeChecksum(s.Type, signUsage, data)
		if err != nil {
			return fmt.Errorf("pac: buffer type %d: %w", typ, err)
		}
		copy(value(typ), sum)
		copy(s.Value, sum)
		return nil
	}
	if o.Ticket != nil {
		if err := sign(kdcKey, TypeTicketChecksum, p.TicketChecksum, o.Ticket); err != nil {
			return nil, err
		}
		// The server, KDC and full signature values are still zero.
		if err := sign(kdcKey, TypeFullChecksum, p.FullChecksum, b); err != nil {
			return nil, err
		}
	}
	if err := sign(serverKey, TypeServerChecksum, p.ServerChecksum, b); err != nil {
		return nil, err
	}
	if err := sign(kdcKey, TypeKDCChecksum, p.KDCChecksum, value(TypeServerChecksum)); err != nil {
		return nil, err
	}
	return b, nil
}

// Verify decodes the PAC b and checks its signatures: the server signature
// with serverKey, unless it is nil; with kdcKey, unless it is nil, the KDC
// signature, and the ticket signature over o.Ticket and the full PAC
// checksum when o.Ticket is set (both required then). A full checksum present
// in a PAC verified without o.Ticket is checked all the same.
//
// A required signature that is missing, a checksum type other than the
// mandatory one of the key's encryption type, or a checksum that does not
// match yields an error wrapping ErrBadSignature; a PAC that does not decode,
// one wrapping ErrMalformed.
func Verify(b []byte, serverKey, kdcKey *crypto.Key, o SignOptions) (*PAC, error) {
	p, infos, err := parse(b)
	if err != nil {
		return nil, err
	}
	find := func(typ uint32) (infoBuffer, bool) {
		for _, ib := range infos {
			if ib.typ == typ {
				return ib, true
			}
		}
		return infoBuffer{}, false
	}
	// zeroed is b with the values of the given signature buffers zeroed:
	// everything after SignatureType, as MIT krb5 and Heimdal zero it.
	zeroed := func(types ...uint32) []byte {
		c := make([]byte, len(b))
		copy(c, b)
		for _, t := range types {
			if ib, ok := find(t); ok {
				clear(c[ib.off+sigHeaderLen : ib.off+ib.size])
			}
		}
		return c
	}
	check := func(k *crypto.Key, name string, typ uint32, s *Signature, data []byte) error {
		if s == nil {
			return fmt.Errorf("%w: no %s signature", ErrBadSignature, name)
		}
		if s.Type != k.ChecksumType() {
			return fmt.Errorf("%w: %s signature of type %d, the key's is %d", ErrBadSignature, name, s.Type, k.ChecksumType())
		}
		if err := k.VerifyChecksum(s.Type, signUsage, data, s.Value); err != nil {
			return fmt.Errorf("%w: %s signature does not match", ErrBadSignature, name)
		}
		return nil
	}
	if serverKey != nil {
		if err := check(serverKey, "server", TypeServerChecksum, p.ServerChecksum,
			zeroed(TypeServerChecksum, TypeKDCChecksum)); err != nil {
			return nil, err
		}
	}
	if kdcKey == nil {
		return p, nil
	}
	if o.Ticket != nil {
		if err := check(kdcKey, "ticket", TypeTicketChecksum, p.TicketChecksum, o.Ticket); err != nil {
			return nil, err
		}
	}
	if o.Ticket != nil || p.FullChecksum != nil {
		if err := check(kdcKey, "full PAC", TypeFullChecksum, p.FullChecksum,
			zeroed(TypeServerChecksum, TypeKDCChecksum, TypeFullChecksum)); err != nil {
			return nil, err
		}
	}
	if p.ServerChecksum == nil {
		return nil, fmt.Errorf("%w: no server signature", ErrBadSignature)
	}
	ib, _ := find(TypeServerChecksum)
	if err := check(kdcKey, "KDC", TypeKDCChecksum, p.KDCChecksum, b[ib.off+sigHeaderLen:ib.off+ib.size]); err != nil {
		return nil, err
	}
	return p, nil
}
