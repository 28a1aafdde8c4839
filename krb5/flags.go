package krb5

import "strings"

// Flags holds a 32-bit Kerberos flag BIT STRING (TicketFlags, KDCOptions,
// APOptions). Bit i in RFC 4120's numbering (bit 0 first, most significant)
// is the value 1<<(31-i).
type Flags uint32

// Bit returns the flag with RFC bit number i.
func Bit(i int) Flags { return 1 << (31 - uint(i)) }

// Has reports whether every flag in f2 is set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// Ticket flags (RFC 4120 §5.3).
var (
	TktReserved             = Bit(0)
	TktForwardable          = Bit(1)
	TktForwarded            = Bit(2)
	TktProxiable            = Bit(3)
	TktProxy                = Bit(4)
	TktMayPostdate          = Bit(5)
	TktPostdated            = Bit(6)
	TktInvalid              = Bit(7)
	TktRenewable            = Bit(8)
	TktInitial              = Bit(9)
	TktPreAuthent           = Bit(10)
	TktHWAuthent            = Bit(11)
	TktTransitPolicyChecked = Bit(12)
	TktOKAsDelegate         = Bit(13)
	TktEncPARep             = Bit(15) // RFC 6806 §11
	TktAnonymous            = Bit(16)
)

// KDC options (RFC 4120 §5.4.1, RFC 6806, MS-SFU).
var (
	OptForwardable           = Bit(1)
	OptForwarded             = Bit(2)
	OptProxiable             = Bit(3)
	OptProxy                 = Bit(4)
	OptAllowPostdate         = Bit(5)
	OptPostdated             = Bit(6)
	OptRenewable             = Bit(8)
	OptCNameInAddlTkt        = Bit(14) // MS-SFU §2.2.3 (constrained delegation, S4U2Proxy)
	OptCanonicalize          = Bit(15)
	OptRequestAnonymous      = Bit(16)
	OptDisableTransitedCheck = Bit(26)
	OptRenewableOK           = Bit(27)
	OptEncTktInSKey          = Bit(28)
	OptRenew                 = Bit(30)
	OptValidate              = Bit(31)
)

// AP options (RFC 4120 §5.5.1).
var (
	APUseSessionKey  = Bit(1)
	APMutualRequired = Bit(2)
)

var ticketFlagNames = []struct {
	f    Flags
	name string
}{
	{TktForwardable, "forwardable"}, {TktForwarded, "forwarded"}, {TktProxiable, "proxiable"},
	{TktProxy, "proxy"}, {TktMayPostdate, "may-postdate"}, {TktPostdated, "postdated"},
	{TktInvalid, "invalid"}, {TktRenewable, "renewable"}, {TktInitial, "initial"},
	{TktPreAuthent, "pre-authent"}, {TktHWAuthent, "hw-authent"},
	{TktTransitPolicyChecked, "transited-policy-checked"}, {TktOKAsDelegate, "ok-as-delegate"},
	{TktEncPARep, "enc-pa-rep"}, {TktAnonymous, "anonymous"},
}

// TicketFlagString names the ticket flags set in f, comma separated.
func TicketFlagString(f Flags) string {
	var parts []string
	for _, n := range ticketFlagNames {
		if f.Has(n.f) {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}
