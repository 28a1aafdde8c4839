package wire

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"hop/internal/redact"
	"hop/krb5"
)

// This file holds the building blocks of RFC 4120 §5.2: PrincipalName,
// EncryptedData, EncryptionKey, Checksum, PA-DATA, HostAddress,
// AuthorizationData, TransitedEncoding and LastReq.

// EncryptedData is RFC 4120 §5.2.9's EncryptedData.
type EncryptedData struct {
	EType   krb5.EncType
	KVNO    uint32
	HasKVNO bool // KVNO is present on the wire
	Cipher  []byte
}

// EncryptionKey is RFC 4120 §5.2.9's EncryptionKey. Its formatting never
// shows the key value; compare keys with Equal.
type EncryptionKey struct {
	Type  krb5.EncType
	Value []byte
}

// Checksum is RFC 4120 §5.2.9's Checksum.
type Checksum struct {
	Type krb5.ChecksumType
	Sum  []byte
}

// PAData is RFC 4120 §5.2.7's PA-DATA.
type PAData struct {
	Type  krb5.PAType
	Value []byte
}

// HostAddress is RFC 4120 §5.2.5's HostAddress.
type HostAddress struct {
	Type    int32
	Address []byte
}

// AuthorizationData is RFC 4120 §5.2.6's AuthorizationData.
type AuthorizationData []ADEntry

// ADEntry is one element of AuthorizationData.
type ADEntry struct {
	Type krb5.ADType
	Data []byte
}

// TransitedEncoding is RFC 4120 §5.3's TransitedEncoding.
type TransitedEncoding struct {
	Type     int32
	Contents []byte
}

// LastReq is one entry of RFC 4120 §5.4.2's LastReq.
type LastReq struct {
	Type  int32
	Value time.Time
}

// String describes the key without its value.
func (k EncryptionKey) String() string {
	return fmt.Sprintf("EncryptionKey{%v, %d bytes redacted}", k.Type, len(k.Value))
}

// GoString is String, so that %#v does not print the key either.
func (k EncryptionKey) GoString() string { return k.String() }

// Format prints String for every verb, so that no verb (%x, %d, ...)
// reveals the key.
func (k EncryptionKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, k.String(), k.GoString())
}

// Equal reports whether two keys have the same type and value, comparing
// the values in constant time.
func (k EncryptionKey) Equal(o EncryptionKey) bool {
	return k.Type == o.Type && subtle.ConstantTimeCompare(k.Value, o.Value) == 1
}

// PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }

var principalNameFields = []string{"name-type", "name-string"}

func principalName(v cryptobyte.String) (krb5.PrincipalName, error) {
	var p krb5.PrincipalName
	err := decodeSequence(v, principalNameFields, 0b11, 0b11, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			p.Type, err = int32As[krb5.NameType](v)
		case 1:
			p.Components, err = nameComponents(v)
		}
		return err
	})
	return p, err
}

// nameComponents decodes name-string with two allocations: the slice and
// one string holding every component.
func nameComponents(v cryptobyte.String) ([]string, error) {
	seq, err := only(v, tagSequence)
	if err != nil {
		return nil, err
	}
	var parts [krb5.MaxNameComponents]cryptobyte.String
	count, total := 0, 0
	for !seq.Empty() {
		var t tag
		var c, full cryptobyte.String
		if !readTLV(&seq, &t, &c, &full) {
			return nil, errMalformed
		}
		if !isStringTag(t) {
			return nil, tagError(tagGeneralString, t)
		}
		if count == krb5.MaxNameComponents {
			return nil, fmt.Errorf("more than %d components", krb5.MaxNameComponents)
		}
		if len(c) > krb5.MaxComponentLen {
			return nil, fmt.Errorf("component longer than %d bytes", krb5.MaxComponentLen)
		}
		parts[count] = c
		count++
		total += len(c)
	}
	if count == 0 {
		return nil, nil
	}
	comps := make([]string, count)
	if count == 1 {
		comps[0] = string(parts[0])
		return comps, nil
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, p := range parts[:count] {
		sb.Write(p)
	}
	all, off := sb.String(), 0
	for i, p := range parts[:count] {
		comps[i] = all[off : off+len(p)]
		off += len(p)
	}
	return comps, nil
}

func optName(v cryptobyte.String) (*krb5.PrincipalName, error) {
	p, err := principalName(v)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// addName writes [n] EXPLICIT PrincipalName with headers computed from
// the sizes, without child builders.
func addName(b *cryptobyte.Builder, n int, p krb5.PrincipalName) {
	if len(p.Components) > krb5.MaxNameComponents {
		b.SetError(fmt.Errorf("principal name has more than %d components", krb5.MaxNameComponents))
		return
	}
	strs := 0
	for _, c := range p.Components {
		if len(c) > krb5.MaxComponentLen {
			b.SetError(fmt.Errorf("principal name component longer than %d bytes", krb5.MaxComponentLen))
			return
		}
		strs += tlvLen(len(c))
	}
	seq := tlvLen(tlvLen(intLen(int64(p.Type)))) + tlvLen(tlvLen(strs))
	var buf [24]byte
	h := appendHeader(buf[:0], 0xa0|byte(n), tlvLen(seq))
	b.AddBytes(appendHeader(h, idSequence, seq))
	addInt(b, 0, int64(p.Type))
	h = appendHeader(buf[:0], 0xa1, tlvLen(strs))
	b.AddBytes(appendHeader(h, idSequence, strs))
	for _, c := range p.Components {
		addGeneralString(b, c)
	}
}

// seqOf decodes the SEQUENCE OF in v, whose elements have tag want, with
// at most max elements; an empty SEQUENCE OF decodes to nil.
func seqOf[T any](v cryptobyte.String, max int, want tag, dec func(*T, cryptobyte.String) error) ([]T, error) {
	seq, err := only(v, tagSequence)
	if err != nil {
		return nil, err
	}
	count, err := countElements(seq, max)
	if err != nil || count == 0 {
		return nil, err
	}
	out := make([]T, count)
	for i := range out {
		var t tag
		var c, full cryptobyte.String
		readTLV(&seq, &t, &c, &full) // cannot fail: countElements read it
		if t != want {
			return nil, fmt.Errorf("entry %d: %w", i, tagError(want, t))
		}
		if err := dec(&out[i], full); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return out, nil
}

// decodeTypedOctets decodes the shape that EncryptionKey, Checksum, PA-DATA,
// HostAddress, AuthorizationData entries and TransitedEncoding share:
// SEQUENCE { [first] Int32, [first+1] OCTET STRING }, both required.
func decodeTypedOctets[T ~int32](v cryptobyte.String, names []string, first uint32, typ *T, val *[]byte) error {
	both := uint64(0b11) << first
	return decodeSequence(v, names, both, both, func(n uint32, v cryptobyte.String) (err error) {
		if n == first {
			*typ, err = int32As[T](v)
		} else {
			*val, err = octets(v)
		}
		return err
	})
}

// addTypedOctets encodes what decodeTypedOctets decodes.
func addTypedOctets(b *cryptobyte.Builder, first int, typ int64, val []byte) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addInt(b, first, typ)
		addOctets(b, first+1, val)
	})
}

// EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }

var encryptedDataFields = []string{"etype", "kvno", "cipher"}

func (e *EncryptedData) decode(v cryptobyte.String) error {
	*e = EncryptedData{}
	return decodeSequence(v, encryptedDataFields, 0b111, 0b101, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			e.EType, err = int32As[krb5.EncType](v)
		case 1:
			e.KVNO, err = uint32Value(v)
			e.HasKVNO = true
		case 2:
			e.Cipher, err = octets(v)
		}
		return err
	})
}

// contentLen is the size of the EncryptedData SEQUENCE's contents.
func (e *EncryptedData) contentLen() int {
	n := tlvLen(tlvLen(intLen(int64(e.EType)))) + tlvLen(tlvLen(len(e.Cipher)))
	if e.HasKVNO {
		n += tlvLen(tlvLen(intLen(int64(e.KVNO))))
	}
	return n
}

// marshal writes the EncryptedData, whose headers it computes from the
// sizes (EncryptedData is in every message: no child builders).
func (e *EncryptedData) marshal(b *cryptobyte.Builder) {
	if len(e.Cipher) > maxLeaf {
		b.SetError(errors.New("cipher is too long"))
		return
	}
	var buf [6]byte
	b.AddBytes(appendHeader(buf[:0], idSequence, e.contentLen()))
	e.fields(b)
}

func (e *EncryptedData) fields(b *cryptobyte.Builder) {
	addInt(b, 0, int64(e.EType))
	if e.HasKVNO {
		addUint(b, 1, e.KVNO)
	}
	addOctets(b, 2, e.Cipher)
}

func addEncryptedData(b *cryptobyte.Builder, n int, e *EncryptedData) {
	if len(e.Cipher) > maxLeaf {
		b.SetError(errors.New("cipher is too long"))
		return
	}
	var buf [12]byte
	c := e.contentLen()
	h := appendHeader(buf[:0], 0xa0|byte(n), tlvLen(c))
	b.AddBytes(appendHeader(h, idSequence, c))
	e.fields(b)
}

// ParseEncryptedData decodes an EncryptedData, such as the padata-value of
// PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2).
func ParseEncryptedData(b []byte) (*EncryptedData, error) {
	return parseNew(b, "EncryptedData", (*EncryptedData).decode)
}

// Marshal encodes e.
func (e *EncryptedData) Marshal() ([]byte, error) {
	b := newBuilder(len(e.Cipher) + 24)
	e.marshal(b)
	return finish(b, "EncryptedData")
}

// EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }

var encryptionKeyFields = []string{"keytype", "keyvalue"}

func (k *EncryptionKey) decode(v cryptobyte.String) error {
	*k = EncryptionKey{}
	return decodeTypedOctets(v, encryptionKeyFields, 0, &k.Type, &k.Value)
}

func (k *EncryptionKey) marshal(b *cryptobyte.Builder) {
	addTypedOctets(b, 0, int64(k.Type), k.Value)
}

func optKey(v cryptobyte.String) (*EncryptionKey, error) {
	return decodeNew(v, (*EncryptionKey).decode)
}

// ParseEncryptionKey decodes an EncryptionKey.
func ParseEncryptionKey(b []byte) (*EncryptionKey, error) {
	return parseNew(b, "EncryptionKey", (*EncryptionKey).decode)
}

// Marshal encodes k.
func (k *EncryptionKey) Marshal() ([]byte, error) {
	b := newBuilder(len(k.Value) + 16)
	k.marshal(b)
	return finish(b, "EncryptionKey")
}

// Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }

var checksumFields = []string{"cksumtype", "checksum"}

func (c *Checksum) decode(v cryptobyte.String) error {
	*c = Checksum{}
	return decodeTypedOctets(v, checksumFields, 0, &c.Type, &c.Sum)
}

func (c *Checksum) marshal(b *cryptobyte.Builder) {
	addTypedOctets(b, 0, int64(c.Type), c.Sum)
}

// ParseChecksum decodes a Checksum.
func ParseChecksum(b []byte) (*Checksum, error) {
	return parseNew(b, "Checksum", (*Checksum).decode)
}

// Marshal encodes c.
func (c *Checksum) Marshal() ([]byte, error) {
	b := newBuilder(len(c.Sum) + 16)
	c.marshal(b)
	return finish(b, "Checksum")
}

// PA-DATA ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING }

var paDataFields = []string{"", "padata-type", "padata-value"}

func (p *PAData) decode(v cryptobyte.String) error {
	*p = PAData{}
	return decodeTypedOctets(v, paDataFields, 1, &p.Type, &p.Value)
}

func (p *PAData) marshal(b *cryptobyte.Builder) {
	addTypedOctets(b, 1, int64(p.Type), p.Value)
}

func paDataSeq(v cryptobyte.String) ([]PAData, error) {
	return seqOf(v, MaxPAData, tagSequence, (*PAData).decode)
}

// addPAData writes a SEQUENCE OF PA-DATA, inside [n] when n >= 0.
func addPAData(b *cryptobyte.Builder, n int, pa []PAData) {
	if !checkCount(b, "PA-DATA", len(pa), MaxPAData) {
		return
	}
	seq := func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range pa {
				pa[i].marshal(b)
			}
		})
	}
	if n < 0 {
		seq(b)
		return
	}
	b.AddASN1(explicit(n), seq)
}

// ParseMethodData decodes METHOD-DATA (SEQUENCE OF PA-DATA), the e-data of
// KDC_ERR_PREAUTH_REQUIRED (RFC 4120 §5.9.1).
func ParseMethodData(b []byte) ([]PAData, error) {
	pa, err := paDataSeq(b)
	if err != nil {
		return nil, fmt.Errorf("wire: METHOD-DATA: %w", err)
	}
	return pa, nil
}

// MarshalMethodData encodes METHOD-DATA.
func MarshalMethodData(pa []PAData) ([]byte, error) {
	size := 8
	for i := range pa {
		size += len(pa[i].Value) + 16
	}
	b := newBuilder(size)
	addPAData(b, -1, pa)
	return finish(b, "METHOD-DATA")
}

// HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING }

var hostAddressFields = []string{"addr-type", "address"}

func (h *HostAddress) decode(v cryptobyte.String) error {
	*h = HostAddress{}
	return decodeTypedOctets(v, hostAddressFields, 0, &h.Type, &h.Address)
}

func (h *HostAddress) marshal(b *cryptobyte.Builder) {
	addTypedOctets(b, 0, int64(h.Type), h.Address)
}

func hostAddresses(v cryptobyte.String) ([]HostAddress, error) {
	return seqOf(v, MaxAddresses, tagSequence, (*HostAddress).decode)
}

func optHostAddress(v cryptobyte.String) (*HostAddress, error) {
	return decodeNew(v, (*HostAddress).decode)
}

func addHostAddresses(b *cryptobyte.Builder, n int, addrs []HostAddress) {
	if !checkCount(b, "HostAddresses", len(addrs), MaxAddresses) {
		return
	}
	b.AddASN1(explicit(n), func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for i := range addrs {
				addrs[i].marshal(b)
			}
		})
	})
}

// AuthorizationData ::= SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1] OCTET STRING }

var adEntryFields = []string{"ad-type", "ad-data"}

func (a *ADEntry) decode(v cryptobyte.String) error {
	*a = ADEntry{}
	return decodeTypedOctets(v, adEntryFields, 0, &a.Type, &a.Data)
}

func authorizationData(v cryptobyte.String) (AuthorizationData, error) {
	return seqOf(v, MaxADEntries, tagSequence, (*ADEntry).decode)
}

func (ad AuthorizationData) marshal(b *cryptobyte.Builder) {
	if !checkCount(b, "AuthorizationData", len(ad), MaxADEntries) {
		return
	}
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := range ad {
			addTypedOctets(b, 0, int64(ad[i].Type), ad[i].Data)
		}
	})
}

// ParseAuthorizationData decodes AuthorizationData, as found in tickets,
// authenticators and the ad-data of AD-IF-RELEVANT (RFC 4120 §5.2.6.1).
// It does not descend into ad-data.
func ParseAuthorizationData(b []byte) (AuthorizationData, error) {
	ad, err := authorizationData(b)
	if err != nil {
		return nil, fmt.Errorf("wire: AuthorizationData: %w", err)
	}
	return ad, nil
}

// Marshal encodes ad.
func (ad AuthorizationData) Marshal() ([]byte, error) {
	size := 8
	for i := range ad {
		size += len(ad[i].Data) + 16
	}
	b := newBuilder(size)
	ad.marshal(b)
	return finish(b, "AuthorizationData")
}

// TransitedEncoding ::= SEQUENCE { tr-type [0] Int32, contents [1] OCTET STRING }

var transitedFields = []string{"tr-type", "contents"}

func (t *TransitedEncoding) decode(v cryptobyte.String) error {
	*t = TransitedEncoding{}
	return decodeTypedOctets(v, transitedFields, 0, &t.Type, &t.Contents)
}

func (t *TransitedEncoding) marshal(b *cryptobyte.Builder) {
	addTypedOctets(b, 0, int64(t.Type), t.Contents)
}

// LastReq ::= SEQUENCE OF SEQUENCE { lr-type [0] Int32, lr-value [1] KerberosTime }

var lastReqFields = []string{"lr-type", "lr-value"}

func (l *LastReq) decode(v cryptobyte.String) error {
	*l = LastReq{}
	return decodeSequence(v, lastReqFields, 0b11, 0b11, func(n uint32, v cryptobyte.String) (err error) {
		switch n {
		case 0:
			l.Type, err = int32Value(v)
		case 1:
			l.Value, err = kerberosTime(v)
		}
		return err
	})
}

func (l *LastReq) marshal(b *cryptobyte.Builder) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addInt(b, 0, int64(l.Type))
		addTime(b, 1, l.Value)
	})
}
