package krb5

import "fmt"

// EncType is an encryption type number (RFC 3961 §8, RFC 3962, RFC 8009, RFC 4757).
type EncType int32

// Encryption types hop knows by name. Only the AES types and, per account,
// RC4 are ever used for keys.
const (
	DES3CBCSHA1            EncType = 16
	AES128CTSHMACSHA196    EncType = 17
	AES256CTSHMACSHA196    EncType = 18
	AES128CTSHMACSHA256128 EncType = 19
	AES256CTSHMACSHA384192 EncType = 20
	RC4HMAC                EncType = 23
)

var etypeNames = map[EncType]string{
	DES3CBCSHA1:            "des3-cbc-sha1",
	AES128CTSHMACSHA196:    "aes128-cts-hmac-sha1-96",
	AES256CTSHMACSHA196:    "aes256-cts-hmac-sha1-96",
	AES128CTSHMACSHA256128: "aes128-cts-hmac-sha256-128",
	AES256CTSHMACSHA384192: "aes256-cts-hmac-sha384-192",
	RC4HMAC:                "arcfour-hmac",
}

// String returns the MIT name of the type (as klist -e prints it).
func (e EncType) String() string {
	if s, ok := etypeNames[e]; ok {
		return s
	}
	return fmt.Sprintf("etype(%d)", int32(e))
}

// ParseEncType accepts an MIT name ("aes256-cts-hmac-sha1-96", "aes256-cts",
// "aes256-sha2", "rc4-hmac", "arcfour-hmac") or a number.
func ParseEncType(s string) (EncType, error) {
	switch s {
	case "aes128-cts", "aes128-cts-hmac-sha1-96", "17":
		return AES128CTSHMACSHA196, nil
	case "aes256-cts", "aes256-cts-hmac-sha1-96", "18":
		return AES256CTSHMACSHA196, nil
	case "aes128-sha2", "aes128-cts-hmac-sha256-128", "19":
		return AES128CTSHMACSHA256128, nil
	case "aes256-sha2", "aes256-cts-hmac-sha384-192", "20":
		return AES256CTSHMACSHA384192, nil
	case "rc4-hmac", "arcfour-hmac", "arcfour-hmac-md5", "23":
		return RC4HMAC, nil
	}
	return 0, fmt.Errorf("krb5: unknown encryption type %q (use aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, aes128-cts-hmac-sha256-128, aes256-cts-hmac-sha384-192 or rc4-hmac)", s)
}

// ChecksumType is a checksum type number (RFC 3961 §8, RFC 8009, RFC 4757).
type ChecksumType int32

// Checksum types.
const (
	CksumRSAMD5              ChecksumType = 7
	CksumHMACSHA1DES3KD      ChecksumType = 12
	CksumHMACSHA196AES128    ChecksumType = 15
	CksumHMACSHA196AES256    ChecksumType = 16
	CksumHMACSHA256128AES128 ChecksumType = 19
	CksumHMACSHA384192AES256 ChecksumType = 20
	CksumGSSAPI              ChecksumType = 0x8003 // RFC 4121 §4.1.1
	CksumHMACMD5             ChecksumType = -138   // RFC 4757 §4
)

func (c ChecksumType) String() string {
	switch c {
	case CksumRSAMD5:
		return "rsa-md5"
	case CksumHMACSHA1DES3KD:
		return "hmac-sha1-des3-kd"
	case CksumHMACSHA196AES128:
		return "hmac-sha1-96-aes128"
	case CksumHMACSHA196AES256:
		return "hmac-sha1-96-aes256"
	case CksumHMACSHA256128AES128:
		return "hmac-sha256-128-aes128"
	case CksumHMACSHA384192AES256:
		return "hmac-sha384-192-aes256"
	case CksumGSSAPI:
		return "gssapi"
	case CksumHMACMD5:
		return "hmac-md5-arcfour"
	}
	return fmt.Sprintf("cksumtype(%d)", int32(c))
}

// KeyUsage is a key usage number (RFC 4120 §7.5.1, RFC 4121 §2).
type KeyUsage uint32

// Key usages.
const (
	UsageASReqPAEncTimestamp  KeyUsage = 1  // PA-ENC-TIMESTAMP, client key
	UsageTicket               KeyUsage = 2  // EncTicketPart, service key
	UsageASRepEncPart         KeyUsage = 3  // EncASRepPart, client key
	UsageTGSReqAuthDataSess   KeyUsage = 4  // TGS-REQ enc-authorization-data, session key
	UsageTGSReqAuthDataSubkey KeyUsage = 5  // TGS-REQ enc-authorization-data, subkey
	UsageTGSReqAuthCksum      KeyUsage = 6  // PA-TGS-REQ authenticator checksum, session key
	UsageTGSReqAuthenticator  KeyUsage = 7  // PA-TGS-REQ authenticator, session key
	UsageTGSRepEncPartSession KeyUsage = 8  // EncTGSRepPart, session key
	UsageTGSRepEncPartSubkey  KeyUsage = 9  // EncTGSRepPart, authenticator subkey
	UsageAPReqAuthCksum       KeyUsage = 10 // AP-REQ authenticator checksum
	UsageAPReqAuthenticator   KeyUsage = 11 // AP-REQ authenticator
	UsageAPRepEncPart         KeyUsage = 12 // EncAPRepPart
	UsageKRBPrivEncPart       KeyUsage = 13
	UsageKRBCredEncPart       KeyUsage = 14
	UsageKRBSafeCksum         KeyUsage = 15
	UsageADKDCIssuedCksum     KeyUsage = 19
	UsagePAForUserCksum       KeyUsage = 17 // MS-SFU §2.2.1 uses the TGT session key with usage 17
	UsageKerbNonKerbCksumSalt KeyUsage = 17 // RFC 4757 name for the same number
	UsageS4UX509UserRequest   KeyUsage = 26 // MS-SFU §2.2.2, PA-S4U-X509-USER in a request
	UsageS4UX509UserReply     KeyUsage = 27 // MS-SFU §2.2.2, in a reply (USE_REPLY_KEY_USAGE)
	UsageAcceptorSeal         KeyUsage = 22 // RFC 4121 §2
	UsageAcceptorSign         KeyUsage = 23
	UsageInitiatorSeal        KeyUsage = 24
	UsageInitiatorSign        KeyUsage = 25
)
