package gssapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"hop/krb5"
	"hop/krb5/crypto"
	"hop/krb5/service"
)

// Context is a Kerberos V5 security context. Its per-message methods are
// safe for concurrent use.
type Context struct {
	initiator bool
	mech      asn1.ObjectIdentifier
	client    krb5.Principal
	server    krb5.Principal
	expiry    time.Time
	accepted  *service.Accepted
	deleg     *DelegatedCredential
	rand      io.Reader

	mu          sync.Mutex
	established bool
	flags       Flags
	key         *crypto.Key // the initiator's subkey, or the session key
	acceptorKey *crypto.Key // the acceptor's subkey, nil if none
	sendSeq     uint64
	recv        seqState

	// Initiator state until the AP-REP arrives.
	sessionKey *crypto.Key
	ctime      time.Time
	cusec      int32
}

// Per-message token flags (RFC 4121 §4.2.2).
const (
	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04
)

const headerLen = 16

var (
	// ErrNotEstablished is returned by the per-message methods of a context
	// that is still waiting for the acceptor's AP-REP.
	ErrNotEstablished = errors.New("gssapi: the security context is not established")
	// ErrBadSig is wrapped by the errors for tokens whose checksum or
	// encryption does not verify (RFC 2743 GSS_S_BAD_SIG).
	ErrBadSig = errors.New("gssapi: token integrity check failed")
	// ErrUnsupportedEncType is wrapped by the errors for contexts whose
	// keys need the RFC 1964 token formats (rc4-hmac, des3).
	ErrUnsupportedEncType = errors.New("gssapi: encryption type without RFC 4121 tokens")
)

// cfxKey reports whether k's type uses RFC 4121 tokens: the AES types of
// RFC 3962 and RFC 8009 ("newer" types, RFC 4121 §1).
func cfxKey(e krb5.EncType) bool {
	switch e {
	case krb5.AES128CTSHMACSHA196, krb5.AES256CTSHMACSHA196, krb5.AES128CTSHMACSHA256128, krb5.AES256CTSHMACSHA384192:
		return true
	}
	return false
}

func unsupportedKey(what string, e krb5.EncType) error {
	return fmt.Errorf("%w: %s is %v, whose GSS-API tokens (RFC 1964, RFC 4757 §7) hop does not implement; use an AES type", ErrUnsupportedEncType, what, e)
}

// Initiator reports whether this side initiated the context.
func (c *Context) Initiator() bool { return c.initiator }

// Established reports whether the context is ready for per-message tokens.
func (c *Context) Established() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.established
}

// Flags are the context's flags: the initiator's (RFC 4121 §4.1.1.1)
// as the acceptor accepted them, plus FlagTrans and FlagProtReady once
// established.
func (c *Context) Flags() Flags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flags
}

// Mech is the mechanism OID of the context tokens (OIDKerberos, or
// OIDKerberosMS when the peer used it).
func (c *Context) Mech() asn1.ObjectIdentifier { return c.mech }

// Client is the initiator's principal.
func (c *Context) Client() krb5.Principal { return c.client }

// Server is the acceptor's principal.
func (c *Context) Server() krb5.Principal { return c.server }

// Expiry is the end time of the ticket the context was made with.
func (c *Context) Expiry() time.Time { return c.expiry }

// Accepted is the checked AP-REQ (acceptor only; nil for an initiator):
// the ticket, its PAC, the authenticator.
func (c *Context) Accepted() *service.Accepted { return c.accepted }

// Delegated is the credential the initiator delegated, nil if none.
func (c *Context) Delegated() *DelegatedCredential { return c.deleg }

// ForgetDelegated zeroes the session keys of the credential the initiator
// delegated and drops it from the context, for an acceptor that does not
// use it; it reports whether there was one.
func (c *Context) ForgetDelegated() bool {
	d := c.deleg
	if d == nil {
		return false
	}
	for i := range d.Info {
		clear(d.Info[i].Key.Value)
	}
	d.Info, d.Tickets = nil, nil
	c.deleg = nil
	return true
}

// usages returns the sign and seal key usages of tokens sent (mine) or
// received (!mine) by this side (RFC 4121 §2).
func (c *Context) usages(mine bool) (sign, seal krb5.KeyUsage) {
	if c.initiator == mine {
		return krb5.UsageInitiatorSign, krb5.UsageInitiatorSeal
	}
	return krb5.UsageAcceptorSign, krb5.UsageAcceptorSeal
}

// sendHeader starts a token: TOK_ID, flags, and the send key. c.mu is held.
func (c *Context) sendHeader(tokID uint16, extra byte) ([]byte, *crypto.Key, error) {
	if !c.established {
		return nil, nil, ErrNotEstablished
	}
	h := make([]byte, headerLen)
	binary.BigEndian.PutUint16(h, tokID)
	h[2] = extra
	if !c.initiator {
		h[2] |= flagSentByAcceptor
	}
	key := c.key
	if c.acceptorKey != nil {
		h[2] |= flagAcceptorSubkey
		key = c.acceptorKey
	}
	binary.BigEndian.PutUint64(h[8:], c.sendSeq)
	return h, key, nil
}

// recvKey checks a received token's direction and picks its key. c.mu is
// held.
func (c *Context) recvKey(flags byte) (*crypto.Key, error) {
	if !c.established {
		return nil, ErrNotEstablished
	}
	if (flags&flagSentByAcceptor != 0) != c.initiator {
		return nil, fmt.Errorf("%w: token sent in the wrong direction (a reflection)", ErrBadSig)
	}
	if flags&flagAcceptorSubkey != 0 {
		if c.acceptorKey == nil {
			return nil, defective("token under an acceptor subkey the acceptor never asserted")
		}
		return c.acceptorKey, nil
	}
	return c.key, nil
}

// MakeMIC returns a MIC token over msg (RFC 4121 §4.2.6.1).
func (c *Context) MakeMIC(msg []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, key, err := c.sendHeader(tokMIC, 0)
	if err != nil {
		return nil, err
	}
	for i := 3; i < 8; i++ {
		h[i] = 0xff
	}
	sign, _ := c.usages(true)
	sum, err := key.MakeChecksum(key.ChecksumType(), sign, concat(msg, h))
	if err != nil {
		return nil, err
	}
	c.sendSeq++
	return append(h, sum...), nil
}

// VerifyMIC checks a MIC token over msg. A token that verifies but is out
// of sequence yields ErrGapToken or ErrUnseqToken; see the package
// documentation.
func (c *Context) VerifyMIC(msg, token []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(token) < headerLen || binary.BigEndian.Uint16(token) != tokMIC {
		return defective("not a MIC token")
	}
	flags := token[2]
	for i := 3; i < 8; i++ {
		if token[i] != 0xff {
			return defective("MIC token filler is not 0xFF")
		}
	}
	if flags&flagSealed != 0 {
		return defective("MIC token flagged sealed")
	}
	key, err := c.recvKey(flags)
	if err != nil {
		return err
	}
	sign, _ := c.usages(false)
	t := key.ChecksumType()
	if n, _ := crypto.ChecksumSize(t); len(token)-headerLen != n {
		return fmt.Errorf("%w: MIC of %d bytes, %v has %d", ErrBadSig, len(token)-headerLen, t, n)
	}
	if err := key.VerifyChecksum(t, sign, concat(msg, token[:headerLen]), token[headerLen:]); err != nil {
		return fmt.Errorf("%w: MIC does not match", ErrBadSig)
	}
	return c.recv.check(binary.BigEndian.Uint64(token[8:]))
}

// Wrap returns a Wrap token holding msg (RFC 4121 §4.2.6.2), encrypted if
// conf is set, else only integrity protected.
func (c *Context) Wrap(msg []byte, conf bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var extra byte
	if conf {
		extra = flagSealed
	}
	h, key, err := c.sendHeader(tokWrap, extra)
	if err != nil {
		return nil, err
	}
	h[3] = 0xff // filler; EC and RRC are 0
	_, seal := c.usages(true)
	if conf {
		ct, err := key.Encrypt(c.rand, seal, concat(msg, h))
		if err != nil {
			return nil, err
		}
		c.sendSeq++
		return append(h, ct...), nil
	}
	sum, err := key.MakeChecksum(key.ChecksumType(), seal, concat(msg, h))
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(h[4:], uint16(len(sum)))
	c.sendSeq++
	out := make([]byte, 0, headerLen+len(msg)+len(sum))
	out = append(append(append(out, h...), msg...), sum...)
	return out, nil
}

// Unwrap checks a Wrap token and returns its message and whether it was
// encrypted. A token that verifies but is out of sequence yields the
// message with ErrGapToken or ErrUnseqToken; see the package documentation.
func (c *Context) Unwrap(token []byte) (msg []byte, conf bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(token) < headerLen || binary.BigEndian.Uint16(token) != tokWrap {
		return nil, false, defective("not a Wrap token")
	}
	flags := token[2]
	if token[3] != 0xff {
		return nil, false, defective("Wrap token filler is not 0xFF")
	}
	ec := int(binary.BigEndian.Uint16(token[4:]))
	rrc := int(binary.BigEndian.Uint16(token[6:]))
	seq := binary.BigEndian.Uint64(token[8:])
	key, err := c.recvKey(flags)
	if err != nil {
		return nil, false, err
	}
	_, seal := c.usages(false)
	payload := rotateLeft(token[headerLen:], rrc)
	if flags&flagSealed != 0 {
		plain, err := key.Decrypt(seal, payload)
		if err != nil {
			return nil, false, fmt.Errorf("%w: Wrap token does not decrypt", ErrBadSig)
		}
		if len(plain) < headerLen+ec {
			return nil, false, defective("sealed Wrap token shorter than its filler and header")
		}
		eh := plain[len(plain)-headerLen:]
		// The encrypted header repeats the token's, RRC aside (RFC 4121
		// §4.2.4): comparing it binds the outer header to the ciphertext.
		if subtle.ConstantTimeCompare(eh[:4], token[:4]) != 1 || binary.BigEndian.Uint16(eh[4:]) != uint16(ec) ||
			binary.BigEndian.Uint64(eh[8:]) != seq {
			return nil, false, defective("the encrypted Wrap header differs from the token's")
		}
		msg = plain[:len(plain)-headerLen-ec]
		conf = true
	} else {
		t := key.ChecksumType()
		n, _ := crypto.ChecksumSize(t)
		if ec != n || len(payload) < n {
			return nil, false, defective("Wrap token with EC %d, the checksum is %d bytes", ec, n)
		}
		data, sum := payload[:len(payload)-n], payload[len(payload)-n:]
		h := append([]byte(nil), token[:headerLen]...)
		clear(h[4:8]) // EC and RRC are zero in the checksummed header
		if err := key.VerifyChecksum(t, seal, concat(data, h), sum); err != nil {
			return nil, false, fmt.Errorf("%w: Wrap token checksum does not match", ErrBadSig)
		}
		msg = append([]byte(nil), data...)
	}
	if err := c.recv.check(seq); err != nil {
		if supplementary(err) {
			return msg, conf, err
		}
		return nil, false, err
	}
	return msg, conf, nil
}

// rotateLeft undoes the right rotation by rrc of RFC 4121 §4.2.5.
func rotateLeft(b []byte, rrc int) []byte {
	if len(b) == 0 || rrc%len(b) == 0 {
		return b
	}
	r := rrc % len(b)
	out := make([]byte, len(b))
	copy(out, b[r:])
	copy(out[len(b)-r:], b[:r])
	return out
}

func concat(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func randReader(r io.Reader) io.Reader {
	if r != nil {
		return r
	}
	return rand.Reader
}

// randomSeq draws an initial sequence number as MIT krb5 does: 30 random
// bits (krb5_generate_seq_number), so that peers storing it signed are safe.
func randomSeq(r io.Reader) (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(randReader(r), b[:]); err != nil {
		return 0, fmt.Errorf("gssapi: sequence number: %w", err)
	}
	return binary.BigEndian.Uint32(b[:]) & 0x3fffffff, nil
}
