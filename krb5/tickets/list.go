package tickets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"hop/krb5"
	"hop/krb5/ccache"
	"hop/krb5/wire"
)

// Listing is what klist shows of a credential cache.
type Listing struct {
	// Name is the cache as klist names it: FILE:/tmp/krb5cc_1000,
	// DIR::/run/user/1000/krb5cc/tkt for a cache of a DIR collection, or
	// KCM:1000 for a cache of a KCM server.
	Name    string
	Path    string // the file; "" for a KCM cache
	Version int    // file format version, 3 or 4; 0 for a KCM cache
	Default krb5.Principal
	// TimeOffset is the KDC's clock minus ours as the cache records it
	// (HasTimeOffset); MIT's library adds it to the local clock.
	TimeOffset    time.Duration
	HasTimeOffset bool
	// Now is the time expiry was judged at: the local clock plus TimeOffset.
	Now     time.Time
	Tickets []TicketInfo  // in file order
	Config  []ConfigEntry // MIT's configuration entries, in file order
}

// TicketInfo describes one ticket of a cache, without its keys.
type TicketInfo struct {
	Client, Server krb5.Principal
	// AuthTime is when the client authenticated; StartTime when the
	// ticket became valid (AuthTime when the cache holds no start time).
	AuthTime, StartTime, EndTime time.Time
	RenewTill                    time.Time // zero: not renewable
	Flags                        krb5.Flags
	SessionKeyType               krb5.EncType
	// TicketEType and TicketKVNO come from the ticket's own enc-part:
	// the type and version of the service's key that seals it.
	TicketEType krb5.EncType
	TicketKVNO  uint32
	HasKVNO     bool
	// TicketError says why the ticket could not be decoded ("" if it was).
	TicketError string
	Expired     bool
	IsSKey      bool // user-to-user ticket
}

// ConfigEntry is one of MIT's configuration entries (klist -C).
type ConfigEntry struct {
	Key       string
	Principal string // the principal it is about, "" for none
	Value     []byte
}

// ValueString renders the value as klist -C does for text, and as a byte
// count otherwise, so that nothing unprintable reaches a terminal.
func (c ConfigEntry) ValueString() string {
	for _, b := range c.Value {
		if b < 0x20 || b > 0x7e {
			return fmt.Sprintf("<%d bytes>", len(c.Value))
		}
	}
	return string(c.Value)
}

// ErrNoCache is wrapped by the error of List and ServiceTicket (a
// *TGTError) when the cache does not exist.
var ErrNoCache = errors.New("tickets: no credential cache")

// List reads the credential cache in use and describes it, judging expiry
// at the local clock plus the cache's time offset, as klist does.
func (s *Source) List(ctx context.Context) (*Listing, error) {
	_, cc, err := s.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer cc.close()
	c, err := cc.load(ctx)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %s: get a ticket with hop login (or kinit)", ErrNoCache, cc.shown)
	}
	if err != nil {
		return nil, err
	}
	l := Describe(c, s.now())
	l.Name, l.Path = cc.shown, cc.path
	return l, nil
}

// Describe describes a parsed cache at the local time now (to which the
// cache's time offset is added). It never fails: a ticket that does not
// decode is described with TicketError.
func Describe(c *ccache.Cache, now time.Time) *Listing {
	if c.HasTimeOffset {
		now = now.Add(c.TimeOffset)
	}
	l := &Listing{Version: c.Version, Default: c.Default, TimeOffset: c.TimeOffset, HasTimeOffset: c.HasTimeOffset, Now: now}
	for i := range c.Credentials {
		cr := &c.Credentials[i]
		if cr.IsConfig() {
			comps := cr.Server.Name.Components
			e := ConfigEntry{Key: comps[1], Value: cr.Ticket}
			if len(comps) > 2 {
				e.Principal = strings.Join(comps[2:], "/")
			}
			l.Config = append(l.Config, e)
			continue
		}
		t := TicketInfo{
			Client: cr.Client, Server: cr.Server, AuthTime: cr.AuthTime, StartTime: cr.StartTime,
			EndTime: cr.EndTime, RenewTill: cr.RenewTill, Flags: cr.Flags, SessionKeyType: cr.KeyType,
			IsSKey: cr.IsSKey, Expired: !cr.EndTime.After(now),
		}
		if t.StartTime.IsZero() {
			t.StartTime = t.AuthTime
		}
		if !t.Flags.Has(krb5.TktRenewable) {
			t.RenewTill = time.Time{}
		}
		if tk, err := wire.ParseTicket(cr.Ticket); err != nil {
			t.TicketError = "the ticket does not decode"
		} else {
			t.TicketEType, t.TicketKVNO, t.HasKVNO = tk.EncPart.EType, tk.EncPart.KVNO, tk.EncPart.HasKVNO
		}
		l.Tickets = append(l.Tickets, t)
	}
	return l
}

// HasValid reports what klist -s reports: when the cache holds a
// ticket-granting ticket for the default principal's realm, whether one
// such ticket is still valid; otherwise whether any ticket is.
func (l *Listing) HasValid() bool {
	tgt := krb5.Principal{Name: krb5.NewName(krb5.NTSrvInst, "krbtgt", string(l.Default.Realm)), Realm: l.Default.Realm}
	foundTGT, currentTGT, current := false, false, false
	for _, t := range l.Tickets {
		if t.Server.Name.Equal(tgt.Name) && t.Server.Realm.Equal(tgt.Realm) {
			foundTGT = true
			currentTGT = currentTGT || !t.Expired
		}
		current = current || !t.Expired
	}
	if foundTGT {
		return currentTGT
	}
	return current
}

// flagLetters are klist -f's letters, in its order.
var flagLetters = []struct {
	f krb5.Flags
	c byte
}{
	{krb5.TktForwardable, 'F'}, {krb5.TktForwarded, 'f'}, {krb5.TktProxiable, 'P'}, {krb5.TktProxy, 'p'},
	{krb5.TktMayPostdate, 'D'}, {krb5.TktPostdated, 'd'}, {krb5.TktInvalid, 'i'}, {krb5.TktRenewable, 'R'},
	{krb5.TktInitial, 'I'}, {krb5.TktHWAuthent, 'H'}, {krb5.TktPreAuthent, 'A'},
	{krb5.TktTransitPolicyChecked, 'T'}, {krb5.TktOKAsDelegate, 'O'}, {krb5.TktAnonymous, 'a'},
}

// FlagLetters returns the ticket flags as MIT's klist -f prints them, e.g.
// "FRIA" for a forwardable, renewable, initial, pre-authenticated TGT.
func FlagLetters(f krb5.Flags) string {
	var b []byte
	for _, l := range flagLetters {
		if f.Has(l.f) {
			b = append(b, l.c)
		}
	}
	return string(b)
}

// FlagNames returns the ticket flags in words ("forwardable", "renewable",
// "initial", "pre-authent", ...), RFC 4120 §5.3 order.
func FlagNames(f krb5.Flags) []string {
	s := krb5.TicketFlagString(f)
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
