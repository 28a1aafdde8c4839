package service_test

import (
	"errors"
	"testing"

	"hop/krb5"
	"hop/krb5/keytab"
	"hop/krb5/service"
)

func TestKeytabFile(t *testing.T) {
	web := krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "HTTP", "web.example.test"), Realm: "EXAMPLE.TEST"}
	kt := &keytab.Keytab{Entries: []keytab.Entry{
		{Principal: web, KVNO: 2, EncType: krb5.AES256CTSHMACSHA196, Key: make([]byte, 32)},
		{Principal: web, KVNO: 3, EncType: krb5.AES256CTSHMACSHA196, Key: append(make([]byte, 31), 3)},
		{Principal: web, KVNO: 3, EncType: krb5.AES128CTSHMACSHA196, Key: make([]byte, 16)},
	}}
	k := service.KeytabFile(kt)
	lower := web
	lower.Realm = "example.test"
	for _, tc := range []struct {
		p    krb5.Principal
		e    krb5.EncType
		kvno uint32
		code krb5.ErrorCode // 0: found
		last byte           // the key's last byte when found
	}{
		{web, krb5.AES256CTSHMACSHA196, 0, 0, 3},
		{web, krb5.AES256CTSHMACSHA196, 2, 0, 0},
		{lower, krb5.AES256CTSHMACSHA196, 3, 0, 3},
		{web, krb5.AES256CTSHMACSHA196, 4, krb5.KRBAPErrBadKeyVer, 0},
		{web, krb5.AES128CTSHMACSHA196, 2, krb5.KRBAPErrNoKey, 0},
		{web, krb5.AES256CTSHMACSHA384192, 0, krb5.KRBAPErrNoKey, 0},
		{krb5.Principal{Name: krb5.NewName(krb5.NTSrvHst, "host", "web.example.test"), Realm: "EXAMPLE.TEST"}, krb5.AES256CTSHMACSHA196, 3, krb5.KRBAPErrNotUs, 0},
	} {
		key, err := k.Key(tc.p, tc.e, tc.kvno)
		if tc.code != 0 {
			if !errors.Is(err, tc.code) || !errors.Is(err, keytab.ErrNotFound) {
				t.Errorf("Key(%s, %v, %d) err = %v, want %v", tc.p, tc.e, tc.kvno, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("Key(%s, %v, %d): %v", tc.p, tc.e, tc.kvno, err)
			continue
		}
		if m := key.Material(); key.EncType() != tc.e || m[len(m)-1] != tc.last {
			t.Errorf("Key(%s, %v, %d) = the wrong key", tc.p, tc.e, tc.kvno)
		}
	}
	if _, err := service.KeytabFile(nil).Key(web, krb5.AES256CTSHMACSHA196, 0); !errors.Is(err, krb5.KRBAPErrNoKey) {
		t.Errorf("nil keytab: %v", err)
	}
}
