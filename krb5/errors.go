package krb5

import "fmt"

// ErrorCode is a KRB-ERROR error code (RFC 4120 §7.5.9, RFC 6113, MS-KILE).
// It implements error so that a decision deep in the KDC can return the
// code the client will see.
type ErrorCode int32

// Error codes.
const (
	KDCErrNone                       ErrorCode = 0
	KDCErrNameExp                    ErrorCode = 1
	KDCErrServiceExp                 ErrorCode = 2
	KDCErrBadPVNO                    ErrorCode = 3
	KDCErrCOldMastKVNO               ErrorCode = 4
	KDCErrSOldMastKVNO               ErrorCode = 5
	KDCErrCPrincipalUnknown          ErrorCode = 6
	KDCErrSPrincipalUnknown          ErrorCode = 7
	KDCErrPrincipalNotUnique         ErrorCode = 8
	KDCErrNullKey                    ErrorCode = 9
	KDCErrCannotPostdate             ErrorCode = 10
	KDCErrNeverValid                 ErrorCode = 11
	KDCErrPolicy                     ErrorCode = 12
	KDCErrBadOption                  ErrorCode = 13
	KDCErrETypeNoSupp                ErrorCode = 14
	KDCErrSumTypeNoSupp              ErrorCode = 15
	KDCErrPADataTypeNoSupp           ErrorCode = 16
	KDCErrTrTypeNoSupp               ErrorCode = 17
	KDCErrClientRevoked              ErrorCode = 18
	KDCErrServiceRevoked             ErrorCode = 19
	KDCErrTGTRevoked                 ErrorCode = 20
	KDCErrClientNotYet               ErrorCode = 21
	KDCErrServiceNotYet              ErrorCode = 22
	KDCErrKeyExpired                 ErrorCode = 23
	KDCErrPreauthFailed              ErrorCode = 24
	KDCErrPreauthRequired            ErrorCode = 25
	KDCErrServerNoMatch              ErrorCode = 26
	KDCErrMustUseUser2User           ErrorCode = 27
	KDCErrPathNotAccepted            ErrorCode = 28
	KDCErrSvcUnavailable             ErrorCode = 29
	KRBAPErrBadIntegrity             ErrorCode = 31
	KRBAPErrTktExpired               ErrorCode = 32
	KRBAPErrTktNYV                   ErrorCode = 33
	KRBAPErrRepeat                   ErrorCode = 34
	KRBAPErrNotUs                    ErrorCode = 35
	KRBAPErrBadMatch                 ErrorCode = 36
	KRBAPErrSkew                     ErrorCode = 37
	KRBAPErrBadAddr                  ErrorCode = 38
	KRBAPErrBadVersion               ErrorCode = 39
	KRBAPErrMsgType                  ErrorCode = 40
	KRBAPErrModified                 ErrorCode = 41
	KRBAPErrBadOrder                 ErrorCode = 42
	KRBAPErrBadKeyVer                ErrorCode = 44
	KRBAPErrNoKey                    ErrorCode = 45
	KRBAPErrMutFail                  ErrorCode = 46
	KRBAPErrBadDirection             ErrorCode = 47
	KRBAPErrMethod                   ErrorCode = 48
	KRBAPErrBadSeq                   ErrorCode = 49
	KRBAPErrInappCksum               ErrorCode = 50
	KRBAPPathNotAccepted             ErrorCode = 51
	KRBErrResponseTooBig             ErrorCode = 52
	KRBErrGeneric                    ErrorCode = 60
	KRBErrFieldToolong               ErrorCode = 61
	KDCErrClientNotTrusted           ErrorCode = 62
	KDCErrKDCNotTrusted              ErrorCode = 63
	KDCErrInvalidSig                 ErrorCode = 64
	KDCErrKeyTooWeak                 ErrorCode = 65
	KDCErrCertificateMismatch        ErrorCode = 66
	KRBAPErrNoTGT                    ErrorCode = 67
	KDCErrWrongRealm                 ErrorCode = 68
	KRBAPErrUserToUserReq            ErrorCode = 69
	KDCErrCantVerifyCert             ErrorCode = 70
	KDCErrInvalidCert                ErrorCode = 71
	KDCErrRevokedCert                ErrorCode = 72
	KDCErrRevocationStatusUnknown    ErrorCode = 73
	KDCErrClientNameMismatch         ErrorCode = 75
	KDCErrKDCNameMismatch            ErrorCode = 76
	KDCErrUnknownCriticalFastOptions ErrorCode = 93
)

var errorNames = map[ErrorCode]string{
	KDCErrNone: "KDC_ERR_NONE", KDCErrNameExp: "KDC_ERR_NAME_EXP", KDCErrServiceExp: "KDC_ERR_SERVICE_EXP",
	KDCErrBadPVNO: "KDC_ERR_BAD_PVNO", KDCErrCOldMastKVNO: "KDC_ERR_C_OLD_MAST_KVNO",
	KDCErrSOldMastKVNO: "KDC_ERR_S_OLD_MAST_KVNO", KDCErrCPrincipalUnknown: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
	KDCErrSPrincipalUnknown: "KDC_ERR_S_PRINCIPAL_UNKNOWN", KDCErrPrincipalNotUnique: "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
	KDCErrNullKey: "KDC_ERR_NULL_KEY", KDCErrCannotPostdate: "KDC_ERR_CANNOT_POSTDATE",
	KDCErrNeverValid: "KDC_ERR_NEVER_VALID", KDCErrPolicy: "KDC_ERR_POLICY", KDCErrBadOption: "KDC_ERR_BADOPTION",
	KDCErrETypeNoSupp: "KDC_ERR_ETYPE_NOSUPP", KDCErrSumTypeNoSupp: "KDC_ERR_SUMTYPE_NOSUPP",
	KDCErrPADataTypeNoSupp: "KDC_ERR_PADATA_TYPE_NOSUPP", KDCErrTrTypeNoSupp: "KDC_ERR_TRTYPE_NOSUPP",
	KDCErrClientRevoked: "KDC_ERR_CLIENT_REVOKED", KDCErrServiceRevoked: "KDC_ERR_SERVICE_REVOKED",
	KDCErrTGTRevoked: "KDC_ERR_TGT_REVOKED", KDCErrClientNotYet: "KDC_ERR_CLIENT_NOTYET",
	KDCErrServiceNotYet: "KDC_ERR_SERVICE_NOTYET", KDCErrKeyExpired: "KDC_ERR_KEY_EXPIRED",
	KDCErrPreauthFailed: "KDC_ERR_PREAUTH_FAILED", KDCErrPreauthRequired: "KDC_ERR_PREAUTH_REQUIRED",
	KDCErrServerNoMatch: "KDC_ERR_SERVER_NOMATCH", KDCErrMustUseUser2User: "KDC_ERR_MUST_USE_USER2USER",
	KDCErrPathNotAccepted: "KDC_ERR_PATH_NOT_ACCEPTED", KDCErrSvcUnavailable: "KDC_ERR_SVC_UNAVAILABLE",
	KRBAPErrBadIntegrity: "KRB_AP_ERR_BAD_INTEGRITY", KRBAPErrTktExpired: "KRB_AP_ERR_TKT_EXPIRED",
	KRBAPErrTktNYV: "KRB_AP_ERR_TKT_NYV", KRBAPErrRepeat: "KRB_AP_ERR_REPEAT", KRBAPErrNotUs: "KRB_AP_ERR_NOT_US",
	KRBAPErrBadMatch: "KRB_AP_ERR_BADMATCH", KRBAPErrSkew: "KRB_AP_ERR_SKEW", KRBAPErrBadAddr: "KRB_AP_ERR_BADADDR",
	KRBAPErrBadVersion: "KRB_AP_ERR_BADVERSION", KRBAPErrMsgType: "KRB_AP_ERR_MSG_TYPE",
	KRBAPErrModified: "KRB_AP_ERR_MODIFIED", KRBAPErrBadOrder: "KRB_AP_ERR_BADORDER",
	KRBAPErrBadKeyVer: "KRB_AP_ERR_BADKEYVER", KRBAPErrNoKey: "KRB_AP_ERR_NOKEY", KRBAPErrMutFail: "KRB_AP_ERR_MUT_FAIL",
	KRBAPErrBadDirection: "KRB_AP_ERR_BADDIRECTION", KRBAPErrMethod: "KRB_AP_ERR_METHOD",
	KRBAPErrBadSeq: "KRB_AP_ERR_BADSEQ", KRBAPErrInappCksum: "KRB_AP_ERR_INAPP_CKSUM",
	KRBAPPathNotAccepted: "KRB_AP_PATH_NOT_ACCEPTED", KRBErrResponseTooBig: "KRB_ERR_RESPONSE_TOO_BIG",
	KRBErrGeneric: "KRB_ERR_GENERIC", KRBErrFieldToolong: "KRB_ERR_FIELD_TOOLONG",
	KDCErrClientNotTrusted: "KDC_ERR_CLIENT_NOT_TRUSTED", KDCErrKDCNotTrusted: "KDC_ERR_KDC_NOT_TRUSTED",
	KDCErrInvalidSig: "KDC_ERR_INVALID_SIG", KDCErrKeyTooWeak: "KDC_ERR_KEY_TOO_WEAK",
	KDCErrCertificateMismatch: "KDC_ERR_CERTIFICATE_MISMATCH", KRBAPErrNoTGT: "KRB_AP_ERR_NO_TGT",
	KDCErrWrongRealm: "KDC_ERR_WRONG_REALM", KRBAPErrUserToUserReq: "KRB_AP_ERR_USER_TO_USER_REQUIRED",
	KDCErrCantVerifyCert: "KDC_ERR_CANT_VERIFY_CERTIFICATE", KDCErrInvalidCert: "KDC_ERR_INVALID_CERTIFICATE",
	KDCErrRevokedCert: "KDC_ERR_REVOKED_CERTIFICATE", KDCErrRevocationStatusUnknown: "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
	KDCErrClientNameMismatch: "KDC_ERR_CLIENT_NAME_MISMATCH", KDCErrKDCNameMismatch: "KDC_ERR_KDC_NAME_MISMATCH",
	KDCErrUnknownCriticalFastOptions: "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS",
}

// String returns the RFC name of the code.
func (c ErrorCode) String() string {
	if s, ok := errorNames[c]; ok {
		return s
	}
	return fmt.Sprintf("KRB_ERROR(%d)", int32(c))
}

func (c ErrorCode) Error() string { return "krb5: " + c.String() }
