package krb5

// MsgType is a message type number (RFC 4120 §7.5.7); it is also the
// application tag of the message.
type MsgType int32

// Message types.
const (
	MsgASReq    MsgType = 10
	MsgASRep    MsgType = 11
	MsgTGSReq   MsgType = 12
	MsgTGSRep   MsgType = 13
	MsgAPReq    MsgType = 14
	MsgAPRep    MsgType = 15
	MsgKRBSafe  MsgType = 20
	MsgKRBPriv  MsgType = 21
	MsgKRBCred  MsgType = 22
	MsgKRBError MsgType = 30
)

// PVNO is the protocol version number.
const PVNO = 5

// PAType is a pre-authentication data type (RFC 4120 §7.5.2, RFC 6113, MS-KILE, MS-SFU).
type PAType int32

// Pre-authentication data types.
const (
	PATGSReq             PAType = 1
	PAEncTimestamp       PAType = 2
	PAPWSalt             PAType = 3
	PAETypeInfo          PAType = 11
	PAETypeInfo2         PAType = 19
	PAPACRequest         PAType = 128 // MS-KILE §2.2.3
	PAForUser            PAType = 129 // MS-SFU §2.2.1
	PAS4UX509User        PAType = 130 // MS-SFU §2.2.2
	PAFXCookie           PAType = 133
	PAFXFast             PAType = 136
	PAFXError            PAType = 137
	PAEncryptedChallenge PAType = 138
	PAReqEncPARep        PAType = 149 // RFC 6806 §11
	PASupportedEnctypes  PAType = 165 // MS-KILE §2.2.8
	PAPACOptions         PAType = 167 // MS-KILE §2.2.10
)

// ADType is an authorization data type (RFC 4120 §7.5.4, MS-PAC).
type ADType int32

// Authorization data types.
const (
	ADIfRelevant      ADType = 1
	ADKDCIssued       ADType = 4
	ADAndOr           ADType = 5
	ADMandatoryForKDC ADType = 8
	ADWin2KPAC        ADType = 128
)

// TransitedDomainX500Compress is the only transited encoding (RFC 4120 §3.3.3.2).
const TransitedDomainX500Compress = 1

// HostAddress types (RFC 4120 §7.5.3).
const (
	AddrIPv4        = 2
	AddrDirectional = 3
	AddrNetBIOS     = 20
	AddrIPv6        = 24
)
