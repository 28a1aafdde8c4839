package tickets

import (
	"context"
	"fmt"

	"hop/krb5"
)

// CopyFrom makes s's cache hold what from's cache holds (principal, time
// offset and credentials) and nothing else, as kinit would have written
// it; it returns the principal. hop login --credential NAME uses it to put
// a credential passed into a hop session in the session's default cache,
// where every Kerberos program finds it.
func (s *Source) CopyFrom(ctx context.Context, from *Source) (krb5.Principal, error) {
	src, c, err := from.openLoaded(ctx)
	if err != nil {
		return krb5.Principal{}, err
	}
	defer src.close()
	_, dst, err := s.open(ctx, true)
	if err != nil {
		return krb5.Principal{}, err
	}
	defer dst.close()
	if err := dst.replace(ctx, c); err != nil {
		return krb5.Principal{}, fmt.Errorf("tickets: write %s: %w", dst.where, err)
	}
	return c.Default, nil
}
