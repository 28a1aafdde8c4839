package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hop/delegation"
	"hop/internal/atomicfile"
	"hop/remote"
	"hop/remoting"
)

// delegationPolicy is the restriction hop exec and hop shell apply: the
// domain's (read through the admin API, remembered for when it cannot be
// read) made stricter by krb5.conf's [hop] restrict_delegation; where says
// where the effective one was set.
func (e *env) delegationPolicy(ctx context.Context, d *dialer) (r delegation.Restriction, where string, err error) {
	local, err := delegation.ParseRestriction(d.hop.RestrictDelegation)
	if err != nil {
		return "", "", fmt.Errorf("restrict_delegation in krb5.conf's [hop] section: %v", err)
	}
	dom, domWhere := e.domainRestriction(ctx, d.hop.AdminURL)
	r, err = dom.Stricter(local)
	if err != nil {
		return "", "", fmt.Errorf("the domain's delegation policy (%s) and krb5.conf's restrict_delegation (%s) conflict: %v", dom, local, err)
	}
	where = "restrict_delegation in krb5.conf's [hop] section"
	if r == dom && dom != delegation.RestrictOff {
		where = domWhere
	}
	return r, where, nil
}

// domainRestriction reads the domain's restriction through the admin API
// at adminURL (anonymously: it is public), or, when that fails, the one
// read last (kept in the user's cache folder); off when there is none.
func (e *env) domainRestriction(ctx context.Context, adminURL string) (delegation.Restriction, string) {
	if adminURL == "" {
		return delegation.RestrictOff, ""
	}
	where := "the domain's policy (hop domain set --restrict-delegation)"
	cache := userCachePath("restrict-delegation-", adminURL)
	cached := func() (delegation.Restriction, bool) {
		if cache == "" {
			return "", false
		}
		b, err := os.ReadFile(cache)
		if err != nil {
			return "", false
		}
		r, err := delegation.ParseRestriction(strings.TrimSpace(string(b)))
		return r, err == nil
	}
	c, err := e.adminClient(adminURL, true, true)
	if err == nil {
		defer c.Close()
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var r delegation.Restriction
		if dom, err2 := c.DelegationPolicy(rctx); err2 == nil {
			if r, err = delegation.ParseRestriction(dom.RestrictDelegation); err == nil {
				if cache != "" && os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
					atomicfile.WriteFile(cache, []byte(string(r)+"\n"), 0o600)
				}
				return r, where
			}
		} else {
			err = err2
		}
	}
	if r, ok := cached(); ok {
		return r, where + ", as read before"
	}
	fmt.Fprintf(e.stderr, "hop: warning: the domain's delegation policy could not be read (%v); applying krb5.conf's restrict_delegation only\n", err)
	return delegation.RestrictOff, ""
}

// applyPolicy applies the delegation restriction to what hop exec or hop
// shell is about to do: the default mode it sets, a forbidden one it
// refuses before connecting, naming the policy and where it was set.
func (d *dialer) applyPolicy(ctx context.Context, e *env) error {
	r, where, err := e.delegationPolicy(ctx, d)
	if err != nil {
		return err
	}
	if d.delegate == "" {
		if m := r.Default(); m != "" {
			d.delegate = remoting.Mode(m)
		}
	}
	if why := r.Allows(string(d.delegate), len(d.credentials) > 0); why != "" {
		return fmt.Errorf("refused by the delegation policy %s (%s): %s", r, where, why)
	}
	if d.delegate == remoting.ModeRemoteGuard {
		d.guard = &remote.Guard{AllowHop: d.allowHop}
		l, err := d.src.List(ctx)
		if err != nil {
			return err
		}
		if d.confirm {
			var tty func() (io.ReadWriteCloser, error)
			if d.ttyFree {
				tty = openTTY
			}
			d.guard.Confirm = e.confirmTicket(l.Default.String(), tty)
		}
		closeLog := e.logGuard(d.guard, l.Default.String())
		prev := d.done
		d.done = func() { closeLog(); prev() }
	}
	return nil
}

// splitPatterns splits a comma-separated list of patterns.
func splitPatterns(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
