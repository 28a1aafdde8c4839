package kdc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"hop/audit"
	"hop/directory"
	"hop/krb5"
	"hop/krb5/wire"
)

// Defaults for Config's zero values.
const (
	DefaultMaxRequestSize = 64 << 10
	// DefaultMaxUDPReply is the largest reply sent over UDP: room for a
	// ticket with a PAC of a few dozen groups. Larger replies become
	// KRB_ERR_RESPONSE_TOO_BIG and the client retries over TCP (RFC 4120
	// §7.2.1). Active Directory's MaxDatagramReplySize is 1465, which a
	// ticket with a PAC rarely fits; Windows clients use TCP anyway.
	DefaultMaxUDPReply = 4096
)

// Config configures a KDC. Zero values are sane defaults.
type Config struct {
	// Directory is the source of accounts and keys. Required.
	Directory *directory.Directory
	// Audit receives one event per issued ticket and per refusal.
	Audit audit.Sink
	// Logger receives operational messages (not per-request events).
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Rand is the source of session keys and confounders; default crypto/rand.
	Rand io.Reader
	// MaxRequestSize caps the length of a request over TCP; default 64 KiB.
	MaxRequestSize int
	// MaxUDPReply is the largest reply sent over UDP; default 4096 bytes.
	MaxUDPReply int
	// RefuseUnaudited refuses every request (KDC_ERR_SVC_UNAVAILABLE)
	// while Audit, an audit.Checker, cannot write its events: no ticket
	// without its record (audit_failure = refuse, the counterpart of
	// Windows' CrashOnAuditFail). Default false: tickets are issued and
	// the lost events are recorded by an audit.gap event.
	RefuseUnaudited bool
}

// Validate reports what is wrong with c.
func (c *Config) Validate() error {
	if c.Directory == nil {
		return errors.New("kdc: Config.Directory is required")
	}
	if c.MaxRequestSize < 0 || c.MaxUDPReply < 0 {
		return errors.New("kdc: negative size limit")
	}
	if c.MaxUDPReply != 0 && c.MaxUDPReply < 512 {
		return fmt.Errorf("kdc: MaxUDPReply %d is below 512 bytes; no useful reply fits", c.MaxUDPReply)
	}
	return nil
}

// KDC answers AS and TGS requests. It is safe for concurrent use.
type KDC struct {
	dir             *directory.Directory
	audit           audit.Sink
	log             *slog.Logger
	now             func() time.Time
	rand            io.Reader
	maxReq          int
	maxUDPReply     int
	refuseUnaudited bool
	keys            atomic.Pointer[keyring]
	sessions        sessionCache
	verified        pacCache
}

// New returns a KDC for cfg.
func New(cfg Config) (*KDC, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	k := &KDC{
		dir:             cfg.Directory,
		audit:           cfg.Audit,
		log:             cfg.Logger,
		now:             cfg.Now,
		rand:            cfg.Rand,
		maxReq:          cfg.MaxRequestSize,
		maxUDPReply:     cfg.MaxUDPReply,
		refuseUnaudited: cfg.RefuseUnaudited,
	}
	if k.audit == nil {
		k.audit = audit.Discard
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.rand == nil {
		k.rand = rand.Reader
	}
	if k.maxReq == 0 {
		k.maxReq = DefaultMaxRequestSize
	}
	if k.maxUDPReply == 0 {
		k.maxUDPReply = DefaultMaxUDPReply
	}
	return k, nil
}

// refusal is a decision to answer with a KRB-ERROR.
type refusal struct {
	code   krb5.ErrorCode
	text   string // e-text: what was wrong and, where useful, what to do
	edata  []byte
	client *krb5.Principal // the client as far as it is known, for the error and the audit
	rule   string          // the rule that refused, for the audit; "" = the error code's name
}

// ruleName is the rule a refusal names in the audit log.
func (r *refusal) ruleName() string {
	if r.rule != "" {
		return r.rule
	}
	return r.code.String()
}

// ruled sets r's rule and returns r.
func (r *refusal) ruled(rule string) *refusal {
	r.rule = rule
	return r
}

func (r *refusal) Error() string { return r.code.String() + ": " + r.text }
func (r *refusal) Unwrap() error { return r.code }

func refuse(code krb5.ErrorCode, format string, args ...any) *refusal {
	return &refusal{code: code, text: fmt.Sprintf(format, args...)}
}

// exchange holds what one request needs while it is being answered.
type exchange struct {
	ctx    context.Context
	now    time.Time
	addr   string
	snap   *directory.Snapshot
	dom    *directory.Domain
	policy directory.Policy
	keys   *keyring
	req    *wire.KDCReq
	issued *audit.Event // the audit event of the ticket issued, emitted once the reply is sent
	deleg  *s4uParties  // set when the request asks for a delegation decision (S4U)
}

// s4uParties names the parties of a delegation decision (S4U2Self or
// S4U2Proxy) for its audit event, which says who asked for what and which
// rule decided.
type s4uParties struct {
	kind      string // "s4u2self" or "s4u2proxy"
	user      string // the user, user@REALM; "" while unknown
	requester string // the account name of the service that asks
	target    string // the service the ticket is for, name@REALM
}

// refusedEvent is the audit event of a refused delegation request: Client
// is the user, Service the target, and Reason names the rule, says why in
// words, and names the requesting service.
func (d *s4uParties) refusedEvent(now time.Time, addr string, rf *refusal) audit.Event {
	return audit.Event{
		Time: now, Type: "tgs." + d.kind + ".refused", Client: d.user, Service: d.target, Addr: addr,
		Code: rf.code.String(), Reason: rf.ruleName() + ": " + rf.text + "; requested by " + d.requester,
	}
}

// Handle answers one request message and returns the bytes to send back, or
// nil when the message deserves no answer (it is not a Kerberos request, or it
// is a reply or an error, which must not be answered to avoid loops). addr
// names the peer in the audit log. maxReply, when positive, is the largest
// reply the transport can carry (UDP); a larger reply is replaced by
// KRB_ERR_RESPONSE_TOO_BIG.
func (k *KDC) Handle(ctx context.Context, msg []byte, addr string, maxReply int) []byte {
	mt, ok := wire.MsgTypeOf(msg)
	if !ok {
		return nil
	}
	now := k.now()
	switch mt {
	case krb5.MsgASReq, krb5.MsgTGSReq:
	case krb5.MsgASRep, krb5.MsgTGSRep, krb5.MsgKRBError, krb5.MsgAPRep:
		return nil
	default:
		return k.errorReply(now, nil, refuse(krb5.KRBAPErrMsgType, "a KDC answers AS-REQ and TGS-REQ only, not message type %d", mt), maxReply)
	}
	req, err := wire.ParseKDCReq(msg)
	if err != nil {
		code := krb5.KRBAPErrMsgType
		if errors.Is(err, wire.ErrBadPVNO) {
			code = krb5.KRBAPErrBadVersion
		}
		return k.errorReply(now, nil, refuse(code, "malformed request: %v", err), maxReply)
	}
	if k.refuseUnaudited {
		if c, ok := k.audit.(audit.Checker); ok {
			if c.Failing() != nil {
				// The cause (a path, an errno) is the log's, not the client's.
				return k.errorReply(now, req, refuse(krb5.KDCErrSvcUnavailable, "this KDC issues no ticket while its audit log cannot be written; its administrator must make room"), maxReply)
			}
		}
	}
	x, rf := k.newExchange(ctx, now, addr, req)
	var reply []byte
	if rf == nil {
		if req.MsgType == krb5.MsgASReq {
			reply, rf = k.serveAS(x)
		} else {
			reply, rf = k.serveTGS(x)
		}
	}
	if rf != nil {
		if x != nil && x.deleg != nil {
			k.audit.Emit(x.deleg.refusedEvent(now, addr, rf))
		} else {
			k.audit.Emit(audit.Event{
				Time: now, Type: refusalEvent(req.MsgType, rf.code), Client: principalString(rf.client, req),
				Service: serviceString(req), Addr: addr, Code: rf.code.String(), Reason: rf.text,
			})
		}
		return k.errorReply(now, req, rf, maxReply)
	}
	if maxReply > 0 && len(reply) > maxReply {
		// Not audited: the client asks again over TCP.
		return k.errorReply(now, req, tooBig(len(reply), maxReply), maxReply)
	}
	if x.issued != nil {
		k.audit.Emit(*x.issued)
	}
	return reply
}

func refusalEvent(mt krb5.MsgType, code krb5.ErrorCode) string {
	if code == krb5.KDCErrPreauthRequired {
		return "as.preauth-required" // the first step of every password logon, not a failure
	}
	if mt == krb5.MsgASReq {
		return "as.refused"
	}
	return "tgs.refused"
}

func (k *KDC) newExchange(ctx context.Context, now time.Time, addr string, req *wire.KDCReq) (*exchange, *refusal) {
	snap, err := k.dir.Snapshot(ctx)
	if err != nil {
		k.log.Error("kdc: directory unavailable", "err", err)
		return nil, refuse(krb5.KDCErrSvcUnavailable, "the KDC cannot read its directory; try again later")
	}
	dom := snap.Domain()
	x := &exchange{
		ctx: ctx, now: now, addr: addr, snap: snap, dom: dom,
		policy: dom.Policy.WithDefaults(), keys: k.keyringFor(snap), req: req,
	}
	return x, nil
}

// Bounds on what an error echoes of a request, so that an error is never
// much larger than the request that caused it: a KDC must not be a
// reflection amplifier over UDP.
const (
	maxEchoedName = 256 // bytes of a client or service name (or realm) copied into a KRB-ERROR
	maxEText      = 512 // bytes of e-text
)

// tooBig is the refusal of a reply of n bytes over a transport that
// carries max (RFC 4120 §7.2.1: the client retries over TCP).
func tooBig(n, max int) *refusal {
	return refuse(krb5.KRBErrResponseTooBig, "the reply is %d bytes, more than fits in a UDP datagram here (%d); retry over TCP", n, max)
}

// errorReply encodes a KRB-ERROR for rf. req may be nil when the request
// could not be decoded. Names longer than maxEchoedName are not echoed and
// the e-text is cut to maxEText; an error that still exceeds maxReply (when
// positive: UDP) becomes a bare KRB_ERR_RESPONSE_TOO_BIG, echoing nothing.
func (k *KDC) errorReply(now time.Time, req *wire.KDCReq, rf *refusal, maxReply int) []byte {
	text := rf.text
	if req != nil {
		// A long name is shown by its start and its length, not whole.
		for _, n := range []*krb5.PrincipalName{req.Body.CName, req.Body.SName} {
			if n != nil && len(n.String()) > maxEchoedName {
				long := n.String()
				text = strings.ReplaceAll(text, long, fmt.Sprintf("%s (a name of %d bytes)", cutText(long, 32), len(long)))
			}
		}
	}
	e := wire.KRBError{
		STime:     now.UTC().Truncate(time.Second),
		Susec:     int32(now.Nanosecond() / 1000),
		ErrorCode: rf.code,
		EText:     cutText(text, maxEText),
		EData:     rf.edata,
	}
	e.Realm = k.domainRealm()
	e.SName = krb5.NewName(krb5.NTSrvInst, "krbtgt", string(e.Realm))
	fits := func(n krb5.PrincipalName, r krb5.Realm) bool {
		return len(n.String()) <= maxEchoedName && len(r) <= maxEchoedName
	}
	if req != nil {
		if req.Body.Realm != "" && len(req.Body.Realm) <= maxEchoedName {
			e.Realm = req.Body.Realm
		}
		if req.Body.SName != nil && fits(*req.Body.SName, e.Realm) {
			e.SName = *req.Body.SName
		}
		if req.Body.CName != nil && fits(*req.Body.CName, req.Body.Realm) {
			cn := *req.Body.CName
			e.CName = &cn
			e.CRealm = req.Body.Realm
		}
	}
	if rf.client != nil && fits(rf.client.Name, rf.client.Realm) {
		cn := rf.client.Name
		e.CName = &cn
		e.CRealm = rf.client.Realm
	}
	b, err := e.Marshal()
	if err != nil {
		k.log.Error("kdc: encode KRB-ERROR", "err", err)
		return nil
	}
	if maxReply > 0 && len(b) > maxReply && rf.code != krb5.KRBErrResponseTooBig {
		return k.errorReply(now, nil, tooBig(len(b), maxReply), maxReply)
	}
	return b
}

// cutText cuts s to at most n bytes, on a character boundary, marking the
// cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	i := n - len(mark)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}

func (k *KDC) domainRealm() krb5.Realm {
	if kr := k.keys.Load(); kr != nil {
		return kr.realm
	}
	if snap, err := k.dir.Snapshot(context.Background()); err == nil {
		return k.keyringFor(snap).realm
	}
	return "UNKNOWN" // the directory is unreadable; the error must still be well formed
}

func principalString(p *krb5.Principal, req *wire.KDCReq) string {
	if p != nil {
		return p.String()
	}
	if req != nil && req.Body.CName != nil {
		return krb5.Principal{Name: *req.Body.CName, Realm: req.Body.Realm}.String()
	}
	return ""
}

func serviceString(req *wire.KDCReq) string {
	if req == nil || req.Body.SName == nil {
		return ""
	}
	return krb5.Principal{Name: *req.Body.SName, Realm: req.Body.Realm}.String()
}
