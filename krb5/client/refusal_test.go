package client_test

import (
	"errors"
	"fmt"
	"testing"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/wire"
)

// TestRefusal: a KDC's refusal, however deeply wrapped, reads as its code
// and e-text; the e-text is left out when the KDC gave none; any other
// error is not a refusal.
func TestRefusal(t *testing.T) {
	withText := fmt.Errorf("broker: %w", &client.Error{Code: krb5.KDCErrBadOption,
		Msg: &wire.KRBError{EText: "delegation: svc-web may not delegate to cifs/c"}})
	if s, ok := client.Refusal(withText); !ok || s != "KDC_ERR_BADOPTION: delegation: svc-web may not delegate to cifs/c" {
		t.Errorf("Refusal(with e-text) = %q, %v", s, ok)
	}
	if s, ok := client.Refusal(&client.Error{Code: krb5.KDCErrPolicy}); !ok || s != "KDC_ERR_POLICY" {
		t.Errorf("Refusal(no message) = %q, %v", s, ok)
	}
	if s, ok := client.Refusal(errors.New("dial tcp 127.0.0.1:88: connection refused")); ok || s != "" {
		t.Errorf("Refusal(network error) = %q, %v; want no refusal", s, ok)
	}
}
