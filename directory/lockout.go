package directory

import (
	"context"
	"time"
)

// RecordPreauthFailure counts a failed pre-authentication of the account
// named name against the domain's lockout policy: failures within
// LockoutWindow of each other accumulate, and the LockoutThreshold-th locks
// the account until now+LockoutDuration, which it returns (zero while the
// account is not locked). With lockout off (the default) it writes nothing;
// nor does it while the account is already locked.
func (d *Directory) RecordPreauthFailure(ctx context.Context, name string) (time.Time, error) {
	snap, err := d.Snapshot(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if _, ok := snap.Account(name); !ok {
		return time.Time{}, notFound("no account %q in the directory", name)
	}
	if snap.Domain().Policy.LockoutThreshold == 0 {
		return time.Time{}, nil
	}
	var until time.Time
	err = d.update(ctx, func(t *txn) error {
		dom, err := t.domain()
		if err != nil {
			return err
		}
		p := dom.Policy.WithDefaults()
		if p.LockoutThreshold == 0 {
			return errNoChange
		}
		old, err := t.account(name)
		if err != nil {
			return err
		}
		now := d.now()
		if old.IsLocked(now) {
			until = old.LockedUntil
			return errNoChange
		}
		a := old.clone()
		if !a.LockedUntil.IsZero() {
			// The lockout has ended: the account starts afresh, as AD does.
			a.LockedUntil, a.BadPwdCount = time.Time{}, 0
		}
		if a.BadPwdTime.IsZero() || now.Sub(a.BadPwdTime) >= p.LockoutWindow || now.Before(a.BadPwdTime) {
			a.BadPwdCount = 0
		}
		a.BadPwdCount++
		a.BadPwdTime = now
		if a.BadPwdCount >= p.LockoutThreshold {
			a.LockedUntil = now.Add(p.LockoutDuration)
			until = a.LockedUntil
		}
		return t.putBookkeeping(a, old)
	})
	if err != nil {
		return time.Time{}, err
	}
	return until, nil
}

// ClearPreauthFailures resets the failed pre-authentication count of the
// account named name after a successful one. It writes only when there is
// something to clear.
func (d *Directory) ClearPreauthFailures(ctx context.Context, name string) error {
	snap, err := d.Snapshot(ctx)
	if err != nil {
		return err
	}
	a, ok := snap.Account(name)
	if !ok {
		return notFound("no account %q in the directory", name)
	}
	if a.BadPwdCount == 0 {
		return nil
	}
	return d.update(ctx, func(t *txn) error {
		old, err := t.account(name)
		if err != nil {
			return err
		}
		if old.BadPwdCount == 0 {
			return errNoChange
		}
		a := old.clone()
		a.BadPwdCount = 0
		if !a.LockedUntil.IsZero() && !a.IsLocked(d.now()) {
			a.LockedUntil = time.Time{}
		}
		return t.putBookkeeping(a, old)
	})
}
